"""Test-time views of a face: the whole image, its mirror, five crops (corners and centre) resized
back to the model's size, and their mirrors. Averaging a model's probabilities over the views is
the test-time augmentation of train.tta_flip and train.tta_crops (ten views: the ten-crop test of
the published FER2013 results).

NumPy only, so `expressions predict` on an ONNX model (no torch) takes exactly the views that
evaluation takes in PyTorch (training/batches.py, tested to agree).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class View:
    mirror: bool = False
    window: tuple[int, int, int] | None = None  # (top, left, side) of a crop; None: whole image


WHOLE = View()  # the image as it is


def crop_windows(size: int, crop: float) -> list[tuple[int, int, int]]:
    """The four corners and the centre, each a square `crop` of the side."""
    side = max(1, round(size * crop))
    far, mid = size - side, (size - side) // 2
    return [(0, 0, side), (0, far, side), (far, 0, side), (far, far, side), (mid, mid, side)]


def views(size: int, flip: bool, crops: bool, crop: float) -> list[View]:
    """The views a model's predictions average over: whole image or five crops, and mirrors."""
    windows: list[tuple[int, int, int] | None] = crop_windows(size, crop) if crops else [None]
    return [View(mirror, w) for w in windows for mirror in ((False, True) if flip else (False,))]


def _source(out: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's bilinear (align_corners=False) sampling: left index, right index, weight."""
    src = np.maximum((np.arange(out) + 0.5) * (size / out) - 0.5, 0.0)
    left = np.floor(src).astype(np.int64)
    return left, np.minimum(left + 1, size - 1), (src - left).astype(np.float32)


def apply(faces: np.ndarray, view: View) -> np.ndarray:
    """uint8 faces [N, S, S] -> the view as model input, float32 [N, 1, S, S] in [0, 1]."""
    x = faces.astype(np.float32) / np.float32(255)
    if view.window is not None:
        top, left, side = view.window
        size = faces.shape[-1]
        x = x[:, top : top + side, left : left + side]
        r0, r1, rw = _source(size, side)
        c0, c1, cw = _source(size, side)
        rows = x[:, r0] * (1 - rw)[None, :, None] + x[:, r1] * rw[None, :, None]
        x = rows[:, :, c0] * (1 - cw)[None, None, :] + rows[:, :, c1] * cw[None, None, :]
    if view.mirror:
        x = x[:, :, ::-1]
    return np.ascontiguousarray(x[:, None])
