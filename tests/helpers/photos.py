"""Test photos built in code from a real face shipped by scikit-image, and small saved models
(with a model card, as `dvc repro release` writes one).

`skimage.data.astronaut()` is a public-domain NASA portrait; its face is pasted at known places
and scales onto a background, so every test knows exactly where each face is.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data, transform

from expressions.config import Run, VariantConfig, parse_params
from expressions.data.images import to_model_input
from expressions.release.bundle import Calibration
from expressions.release.card import CARD, card_facts
from expressions.release.card_markdown import write_card
from expressions.release.export import INPUT_SCALING
from expressions.training.model import ExpressionNet, build_model
from expressions.training.model_file import save_model
from helpers.e2e import tiny_params

# The head and shoulders around the astronaut's face, and the face inside it (x, y, w, h).
PATCH = (slice(20, 220), slice(130, 320))
FACE = (48, 42, 90, 105)


def background(height: int = 480, width: int = 640, seed: int = 0) -> np.ndarray:
    """A smooth colour gradient with mild noise: photo-like, and nothing face-like on it."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([90 + 60 * xx / width, 110 + 40 * yy / height, 140 - 50 * xx / width], -1)
    noise = np.random.default_rng(seed).normal(0, 4, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def paste_faces(
    image: np.ndarray, placements: list[tuple[int, int, float]]
) -> list[tuple[int, int, int, int]]:
    """Paste the astronaut patch at (x, y) scaled by s; return each face's true box."""
    patch = data.astronaut()[PATCH]
    boxes = []
    for x, y, s in placements:
        h, w = round(patch.shape[0] * s), round(patch.shape[1] * s)
        scaled = transform.resize(patch, (h, w), anti_aliasing=True, preserve_range=True)
        image[y : y + h, x : x + w] = np.rint(scaled).astype(np.uint8)
        fx, fy, fw, fh = FACE
        boxes.append((x + round(fx * s), y + round(fy * s), round(fw * s), round(fh * s)))
    return boxes


def group_photo(
    width: int = 640, height: int = 480
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Three faces, large, medium and small, on a `width` x `height` background (640x480 by
    default); a larger photo has the same layout, scaled as far as both its sides allow."""
    k = min(width / 640, height / 480)
    image = background(height, width)
    places = [(20, 30, 1.4), (330, 40, 1.0), (470, 260, 0.6)]
    return image, paste_faces(image, [(round(x * k), round(y * k), s * k) for x, y, s in places])


def moving_faces_clip(
    path: Path, frames: int = 72, cut_at: int | None = None, fps: float = 30.0
) -> list[dict[int, tuple[int, int, int, int]]]:
    """Three people moving across a 640x480 clip (OpenCV's mp4v); the small one leaves at frame
    24 and comes back at 36; from `cut_at` on another, darker scene. Each frame's true face
    boxes by person (0, 1, 2)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    truth = []
    for i in range(frames):
        image = background(480, 640, seed=0)
        if cut_at is not None and i >= cut_at:
            image = image // 3
        people = {0: (20 + 4 * i % 400, 30, 1.0), 1: (330, 40 + 2 * i % 200, 0.8)}
        if not 24 <= i < 36:
            people[2] = (470 - 3 * i % 460, 260, 0.6)
        boxes = paste_faces(image, list(people.values()))
        truth.append(dict(zip(people, boxes, strict=True)))
        writer.write(np.ascontiguousarray(image[..., ::-1]))
    writer.release()
    return truth


def photo_folder(folder: Path) -> tuple[Path, list[tuple[int, int, int, int]]]:
    """group.jpg (the group photo) and empty.png (background only) in `folder`, and the boxes."""
    image, boxes = group_photo()
    Image.fromarray(image).save(folder / "group.jpg", quality=95)
    Image.fromarray(background(seed=1)).save(folder / "empty.png")
    return folder, boxes


def iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


# An EfficientNet-Lite0 without ImageNet weights, at a small input size to stay fast.
LITE0 = {"model": {"arch": "efficientnet_lite0", "pretrained": "none", "input_size": 32}}


def tiny_variant(name: str = "main") -> VariantConfig:
    """A shipped variant's shape (main: kernel 3; variant1: kernel 4; variant2: depth 4), small;
    or `lite0`, an EfficientNet-Lite0 backbone."""
    return parse_params(tiny_params(**{"variants.lite0": LITE0})).variant(name)


def save_tiny_model(path: Path, name: str = "main", seed: int = 0) -> Path:
    """An untrained but deterministic model of that variant, with pixel stats like real data."""
    variant = tiny_variant(name)
    torch.manual_seed(seed)
    model = build_model(variant.model, len(variant.classes), variant.image_size)
    if isinstance(model, ExpressionNet):  # a backbone normalises with ImageNet's stats
        model.set_pixel_stats(0.45, 0.25)
    # A few steps teach it to tell brightness apart (class = brightness quartile), so its
    # predictions vary from face to face, as a trained model's do (a backbone's random
    # weights vary them already).
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    classes = len(variant.classes)
    model.train()
    for _ in range(40 if variant.model.arch == "study" else 0):  # a backbone's step takes s
        level = torch.rand(32, generator=generator)
        noise = torch.rand(32, 1, variant.image_size, variant.image_size, generator=generator)
        x = (level[:, None, None, None] * 0.8 + 0.2 * noise).clamp(0, 1)
        y = (level * classes).long().clamp(max=classes - 1)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    save_model(path, model, Run(variant))
    return path


def write_model_card(folder: Path, name: str = "main", origin: str = "local") -> Path:
    """The card as the release stage writes it (model_card.json and MODEL_CARD.md): Table 2
    accuracy 0.734 on 120 test images, trained on rafdb from `origin` (synthetic: drawn faces)."""
    variant = tiny_variant(name)
    per_class = {c: {"precision": 0.7, "recall": 0.7, "support": 30} for c in variant.classes}
    scores = {"precision": 0.7, "recall": 0.7, "f1": 0.7, "f1_study": 0.7}
    metrics = {"accuracy": 0.734, "macro": scores, "micro": scores, "per_class": per_class}
    metrics["test_images"] = 120
    calibration = asdict(Calibration(1.5, 0.1, 0.05, 1.0, 0.9, 50))
    origins, label_map = {"rafdb": origin}, {"rafdb": {"1": "Happy"}}
    facts = card_facts(variant, metrics, calibration, origins, label_map, None, INPUT_SCALING)
    write_card(folder, facts)
    return folder / CARD


def face_crops(n: int, size: int, seed: int = 0) -> np.ndarray:
    """uint8 [n, size, size] faces as the clean stage makes them, from the group photo's crops."""
    image, boxes = group_photo()
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        x, y, w, h = boxes[i % len(boxes)]
        dx, dy = rng.integers(-w // 5, w // 5 + 1, 2)
        crop = image[max(0, y + dy) : y + dy + h, max(0, x + dx) : x + dx + w]
        out.append(to_model_input(crop, size))
    return np.stack(out)
