"""Procedural faces whose expression lives in their geometry, for the embedded synthetic data.

A face is an `expression` vector (mouth, brows, eyes, gaze, head turn; see PARAMS) drawn with a
random identity, pose, background, lighting and sensor noise. Everything that is not expression
varies freely, so a classifier can only succeed by reading the geometry, as on real photographs.

Shapes are computed in "face units" (the face's half-height is 1, x right, y down), moved to the
canvas by one similarity transform, and filled with PIL's C drawing routines (at twice the target
resolution for small images); that keeps a face at a couple of milliseconds, smooth edges and all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageEnhance

PARAMS = (
    "mouth_w",  # half-width of the mouth
    "mouth_curve",  # > 0 lifts the corners (smile), < 0 drops them
    "mouth_open",  # gap between the lips
    "mouth_skew",  # lifts one corner and drops the other
    "mouth_dx",  # sideways shift (a pursed, thinking mouth)
    "teeth",  # > 0.5 shows teeth in an open mouth
    "tongue",  # > 0.5 puts a tongue out of an open mouth
    "brow_h",  # raises both brows
    "brow_tilt",  # > 0 lowers the inner ends (anger), < 0 raises them (sadness, fear)
    "brow_asym",  # raises one brow and lowers the other
    "eye_open",  # 1 is relaxed; 0 shut, 1.6 wide
    "gaze_x",  # iris offset, in eye-widths: > 0 looks to the image's right
    "gaze_y",  # > 0 looks down, < -1 rolls the eyes up under the lids
    "yaw",  # head turned: features slide sideways, the far side narrows
    "pitch",  # head nodded down: features slide down
    "roll",  # head tilt in degrees, on top of the random in-plane rotation
)
INDEX = {name: i for i, name in enumerate(PARAMS)}
NEUTRAL = np.array([0.25, 0.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 0])
SPREAD = np.array(
    [0.03, 0.03, 0.03, 0.02, 0.02, 0.3, 0.2, 0.035, 0.035, 0.025, 0.12, 0.2, 0.2, 0.12, 0.15, 4.0]
)
MIRRORED = [INDEX[n] for n in ("mouth_skew", "mouth_dx", "brow_asym", "gaze_x", "yaw", "roll")]
CIRCLE = np.stack([np.cos(t := np.linspace(0, 2 * np.pi, 28)), np.sin(t)], axis=1)
UPPER = CIRCLE[14:]  # the half of the unit circle with y < 0, left to right
LOWER = CIRCLE[:15][::-1]  # the half with y > 0, left to right
SUPERSAMPLE_UP_TO = 160  # image side in pixels
BEZIER_T = np.linspace(0, 1, 11)[:, None]


def expression(
    prototype: dict[str, float], rng: np.random.Generator, intensity: tuple[float, float]
) -> np.ndarray:
    """A parameter vector near `prototype`: people show an expression at any strength, so the
    prototype's offset from neutral is scaled by a random intensity, then everything jitters.
    A random mirror puts one-sided traits (a raised brow, a glance) on either side."""
    target = NEUTRAL.copy()
    for name, value in prototype.items():
        target[INDEX[name]] = value
    strength = rng.uniform(*intensity)
    params = NEUTRAL + strength * (target - NEUTRAL) + SPREAD * rng.standard_normal(len(PARAMS))
    if rng.random() < 0.5:
        params[MIRRORED] *= -1
    return params


@dataclass(frozen=True)
class Look:
    """Who is pictured and how: everything about an image that is not the expression."""

    skin: tuple[int, int, int]
    lips: tuple[int, int, int]
    hair: tuple[int, int, int]
    clothes: tuple[int, int, int]
    hair_style: int  # 0 short, 1 medium, 2 long
    face_w: float  # half-width of the face relative to its half-height
    eye_dx: float  # half the distance between the eyes
    center: tuple[float, float]  # face centre, as fractions of the canvas
    size: float  # face half-height, as a fraction of the canvas's shorter side
    rotation: float  # in-plane rotation in degrees


def _random_look(rng: np.random.Generator, aligned: bool) -> Look:
    """`aligned` faces (RAF-DB's) are centred, upright and of one size, like its crops."""
    tone = rng.uniform(0, 1)
    skin = np.array([250, 218, 190]) * (1 - tone) + np.array([105, 68, 48]) * tone
    skin = skin + rng.normal(0, 6, 3)
    hair = np.array([[25, 20, 18], [70, 45, 30], [150, 110, 60], [200, 170, 110], [160, 160, 160]])
    jitter, spread = (0.02, 3.0) if aligned else (0.07, 7.0)
    return Look(
        skin=_rgb(skin),
        lips=_rgb(skin * np.array([0.78, 0.55, 0.58])),
        hair=_rgb(hair[rng.integers(len(hair))] + rng.normal(0, 8, 3)),
        clothes=_rgb(rng.uniform(20, 235, 3)),
        hair_style=int(rng.integers(3)),
        face_w=rng.uniform(0.7, 0.84),
        eye_dx=rng.uniform(0.3, 0.36),
        center=(0.5 + rng.normal(0, jitter), 0.5 + rng.normal(0, jitter)),
        size=rng.uniform(0.44, 0.5) if aligned else rng.uniform(0.32, 0.46),
        rotation=rng.normal(0, spread),
    )


def _rgb(values: np.ndarray) -> tuple[int, int, int]:
    r, g, b = np.clip(values, 0, 255).astype(int)
    return int(r), int(g), int(b)


class _Pen:
    """Draws face-unit shapes on the canvas through one similarity transform."""

    def __init__(self, draw: ImageDraw.ImageDraw, origin: np.ndarray, unit: float, degrees: float):
        angle = np.radians(degrees)
        rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        self.draw, self.origin, self.unit, self.matrix = draw, origin, unit, rotate.T * unit

    def _xy(self, points: np.ndarray) -> list[tuple[float, float]]:
        # Spelled out rather than `points @ matrix`: BLAS costs more than it saves on 2x2.
        moved = points[:, :1] * self.matrix[0] + points[:, 1:] * self.matrix[1] + self.origin
        return list(map(tuple, moved.tolist()))

    def fill(self, points: np.ndarray, color: tuple[int, ...]) -> None:
        self.draw.polygon(self._xy(points), fill=color)

    def stroke(self, points: np.ndarray, color: tuple[int, ...], width: float) -> None:
        self.draw.line(self._xy(points), fill=color, width=max(1, round(width * self.unit)))

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, color: tuple[int, ...]) -> None:
        self.fill(CIRCLE * (rx, ry) + _v(cx, cy), color)


def _v(x: float, y: float) -> np.ndarray:
    """A face-unit offset, as an array so that `point + _v(dx, dy)` adds rather than concatenates."""
    return np.array((x, y))


def _bezier(a: np.ndarray, mid: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quadratic curve from a to b that passes through `mid` halfway."""
    control = 2 * mid - (a + b) / 2
    t = BEZIER_T
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * control + t**2 * b


def _draw_face(canvas: Image.Image, params: np.ndarray, look: Look) -> None:
    """Draw the face onto `canvas` (in place), back to front."""
    p = dict(zip(PARAMS, params.tolist(), strict=True))
    side = min(canvas.size)
    origin = np.array(look.center) * canvas.size
    pen = _Pen(ImageDraw.Draw(canvas), origin, look.size * side, look.rotation + p["roll"])
    yaw = float(np.clip(p["yaw"], -0.9, 0.9))
    _head(pen, look, yaw)
    shift = np.array([yaw * 0.22, p["pitch"] * 0.12])
    for s in (-1, 1):
        x = s * look.eye_dx * (1 - s * yaw * 0.25)  # the far eye closes in on the nose
        _eye(pen, look, p, shift + _v(x, -0.15))
        _brow(pen, look, p, s, shift + _v(x, -0.38))
    nose = shift * (1.5, 1) + _v(0, 0.18)  # the nose stands out, so it slides furthest
    bridge = np.array([[0.01, -0.22], [0.04, 0.02], [-0.05, 0.04]])
    pen.stroke(nose + bridge, _shade(look.skin, 0.72), 0.03)
    _mouth(pen, look, p, shift * (1.2, 1) + _v(p["mouth_dx"], 0.52))


def _shade(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return _rgb(np.array(color) * factor)


def _head(pen: _Pen, look: Look, yaw: float) -> None:
    """Shoulders, hair, ears and the face oval, which narrows as the head turns."""
    pen.fill(
        np.array([[-0.5, 0.8], [0.5, 0.8], [1.7, 2.2], [1.7, 3], [-1.7, 3], [-1.7, 2.2]]),
        look.clothes,
    )
    pen.fill(
        np.array([[-0.28, 0.5], [0.28, 0.5], [0.3, 1.15], [-0.3, 1.15]]), _shade(look.skin, 0.85)
    )
    width = look.face_w * (1 - 0.12 * abs(yaw))
    if look.hair_style:
        bottom = 0.35 if look.hair_style == 1 else 1.0
        back = np.vstack(
            [
                UPPER * (width * 1.18, 1.15) + _v(0, -0.05),
                [[width * 1.2, bottom], [-width * 1.2, bottom]],
            ]
        )
        pen.fill(back, look.hair)
    for s in (-1, 1):
        pen.ellipse(s * width * 0.98 - yaw * 0.12, -0.05, 0.11, 0.19, _shade(look.skin, 0.9))
    oval = CIRCLE * (width, 1.0)
    oval[:, 0] *= 1 - 0.14 * np.clip(oval[:, 1], 0, 1)  # a narrower chin than forehead
    pen.fill(oval + _v(yaw * 0.04, 0), look.skin)
    line = -0.55 + 0.06 * look.hair_style
    fringe = np.vstack(
        [
            UPPER * (width * 1.03, 1.04),
            [[width * 0.9, line + 0.1], [0, line - 0.08], [-width * 0.9, line + 0.1]],
        ]
    )
    pen.fill(fringe + _v(yaw * 0.04, -0.01), look.hair)


def _eye(pen: _Pen, look: Look, p: dict[str, float], at: np.ndarray) -> None:
    """Eye white, iris and pupil, then skin-coloured lids that close down to the opening.

    The lids also hide whatever part of the iris falls outside the opening, so rolled-up or
    sideways gazes need no clipping.
    """
    cx, cy = at
    width = 0.16
    height = 0.085 * float(np.clip(p["eye_open"], 0.05, 1.8))
    pen.ellipse(cx, cy, width, max(height, 0.01), (235, 235, 232))
    ix, iy = cx + p["gaze_x"] * 0.085, cy + p["gaze_y"] * 0.085
    pen.ellipse(ix, iy, 0.07, 0.07, (70, 50, 35))
    pen.ellipse(ix, iy, 0.03, 0.03, (12, 10, 10))
    box = 0.2
    corners = np.array(
        [[width + 0.03, 0], [width + 0.03, -box], [-width - 0.03, -box], [-width - 0.03, 0]]
    )
    pen.fill(np.vstack([UPPER * (width, height), corners]) + at, look.skin)
    pen.fill(np.vstack([LOWER * (width, height), corners * (1, -1)]) + at, look.skin)
    pen.stroke(UPPER * (width * 1.04, height + 0.01) + at, (30, 22, 20), 0.025)


def _brow(pen: _Pen, look: Look, p: dict[str, float], s: int, at: np.ndarray) -> None:
    """A brow from inner to outer end; tilt moves the inner end, asymmetry one brow only."""
    lift = p["brow_h"] + (p["brow_asym"] if s < 0 else -0.4 * p["brow_asym"])
    inner = at + _v(-s * 0.12, p["brow_tilt"] - lift)
    outer = at + _v(s * 0.15, -lift)
    middle = (inner + outer) / 2 + _v(0, -0.035)
    pen.stroke(_bezier(inner, middle, outer), _shade(look.hair, 0.8), 0.055)


def _mouth(pen: _Pen, look: Look, p: dict[str, float], at: np.ndarray) -> None:
    """Lips as two curves between the corners: the space between is dark when open."""
    w = float(np.clip(p["mouth_w"], 0.08, 0.45))
    curve, skew = p["mouth_curve"], p["mouth_skew"]
    gap = float(np.clip(p["mouth_open"], 0, 0.45))
    left, right = at + _v(-w, -curve + skew), at + _v(w, -curve - skew)
    top = _bezier(left, at + _v(0, -gap / 2 + 0.3 * curve), right)
    bottom = _bezier(left, at + _v(0, gap / 2 + 0.9 * curve), right)
    if gap > 0.03:
        pen.fill(np.vstack([top, bottom[::-1]]), (55, 18, 22))
        if p["teeth"] > 0.5:
            teeth = top[::-1] + _v(0, min(0.07, gap * 0.45))
            pen.fill(np.vstack([top, teeth]), (238, 236, 225))
        if p["tongue"] > 0.5:
            pen.ellipse(at[0], at[1] + gap / 2 + 0.04, 0.09, 0.13, (215, 95, 110))
    pen.stroke(top + _v(0, -0.012), look.lips, 0.035)
    pen.stroke(bottom + _v(0, 0.015), look.lips, 0.045)
    if gap <= 0.03:
        pen.stroke((top + bottom) / 2, _shade(look.lips, 0.55), 0.018)


def _background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Plain, gradient or cluttered: the scenes behind faces in the wild."""
    kind = rng.integers(3)
    corners = rng.uniform(30, 230, (2, 2, 3))
    if kind == 0:
        corners[:] = corners[0, 0]
    image = Image.fromarray(corners.astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
    if kind == 2:
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(3, 9))):
            x0, y0 = rng.uniform(-0.2, 1, 2) * size
            x1, y1 = (x0, y0) + rng.uniform(0.1, 0.6, 2) * size
            shape = draw.rectangle if rng.random() < 0.6 else draw.ellipse
            shape((x0, y0, x1, y1), fill=_rgb(rng.uniform(20, 240, 3)))
    return image


def _finish(image: Image.Image, rng: np.random.Generator, noise: Image.Image) -> Image.Image:
    """Uneven lighting and sensor noise, the last things a camera adds.

    `noise` is a large bank of gray noise centred on 128; a random crop of it costs far less
    than drawing fresh normal samples for every pixel.
    """
    light = Image.fromarray(rng.uniform(150, 255, (2, 2)).astype(np.uint8)).resize(
        image.size, Image.Resampling.BILINEAR
    )
    image = ImageChops.multiply(image, Image.merge("RGB", (light, light, light)))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.9, 1.35))
    w, h = image.size
    x, y = rng.integers(0, noise.size[0] - w), rng.integers(0, noise.size[1] - h)
    grain = noise.crop((x, y, x + w, y + h))
    return ImageChops.add(image, Image.merge("RGB", (grain, grain, grain)), scale=1.0, offset=-128)


def noise_bank(rng: np.random.Generator, side: int = 640) -> Image.Image:
    """Gray noise whose strength grows down the rows, so a crop's row picks its camera's ISO."""
    sigma = np.linspace(1.5, 10, side)[:, None]
    return Image.fromarray(
        np.clip(128 + sigma * rng.standard_normal((side, side)), 0, 255).astype(np.uint8)
    )


def render(
    size: tuple[int, int],
    params: np.ndarray,
    rng: np.random.Generator,
    aligned: bool,
    noise: Image.Image,
) -> Image.Image:
    """One RGB photograph of a face showing `params`.

    Small images are drawn at twice their size and reduced, for smooth edges; large ones have
    pixels enough, and drawing them large would double the cost of the biggest files.
    """
    factor = 2 if max(size) <= SUPERSAMPLE_UP_TO else 1
    canvas = _background((size[0] * factor, size[1] * factor), rng)
    _draw_face(canvas, params, _random_look(rng, aligned))
    return _finish(canvas.reduce(factor), rng, noise)
