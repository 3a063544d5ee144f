"""Face detectors whose model files ship inside their packages: nothing is downloaded at run time.

- `mtcnn`: facenet-pytorch's MTCNN (weights in its wheel; needs torch). Finds the most faces.
- `haar`: OpenCV's frontal-face Haar cascade (opencv-python-headless 4.x). No torch.
- `lbp`: scikit-image's LBP frontal-face cascade. No new dependency, no torch.
- `none`: the whole image is one face, for pre-cropped data such as the datasets themselves.

Each detector takes RGB uint8 images and returns boxes in the image's own pixels. Heavy imports
happen when a detector is built, so choosing `haar`, `lbp` or `none` never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from expressions.core.errors import PredictionError

DETECTORS = ("mtcnn", "haar", "lbp", "none")
# Measured by benchmarks/predict_bench.py on 32 pasted faces of 25-150 px, 8 of them tilted 20-30
# degrees: mtcnn found 32 (0 false), haar 26 (misses tilted heads), lbp 23 (2 false detections).
DEFAULT = "mtcnn"
MIN_FACE = 20  # px: smaller faces carry too little of an expression to classify
MARGIN = 0.1  # added around a face box on each side, as a fraction of its side


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    score: float  # the detector's confidence; NaN where it gives none (lbp), 1.0 for `none`

    def scaled(self, factor: float) -> Box:
        """The box on the same picture decoded at `factor` times the size."""
        if factor == 1:
            return self
        x, y, w, h = (round(v * factor) for v in (self.x, self.y, self.w, self.h))
        return Box(x, y, w, h, self.score)


Detector = Callable[[Sequence[np.ndarray]], list[list[Box]]]


def reading_order(boxes: Sequence[Box]) -> list[Box]:
    """Faces numbered as a person reads them: by rows (a face whose centre is within half a
    face's height of a row's first face joins that row), then left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.y + b.h / 2):
        centre = box.y + box.h / 2
        if rows and abs(centre - (rows[-1][0].y + rows[-1][0].h / 2)) <= rows[-1][0].h / 2:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [b for row in rows for b in sorted(row, key=lambda b: b.x)]


def whole_image(images: Sequence[np.ndarray]) -> list[list[Box]]:
    return [[Box(0, 0, im.shape[1], im.shape[0], 1.0)] for im in images]


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    weights = np.array([0.299, 0.587, 0.114], np.float32)  # as cv2.COLOR_RGB2GRAY
    return np.clip(image[..., :3] @ weights + 0.5, 0, 255).astype(np.uint8)


def haar() -> Detector:
    try:
        import cv2
    except ImportError:
        raise PredictionError(
            "--detector haar needs OpenCV: pip install 'opencv-python-headless<5'"
        ) from None
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise PredictionError("OpenCV ships no Haar cascade files (5.0 dropped them); use 4.x")

    def detect(images: Sequence[np.ndarray]) -> list[list[Box]]:
        found = []
        for image in images:
            boxes, _, weights = cascade.detectMultiScale3(
                _gray(image), 1.1, 5, minSize=(MIN_FACE, MIN_FACE), outputRejectLevels=True
            )
            found.append(
                [Box(*map(int, b), float(s)) for b, s in zip(boxes, np.ravel(weights), strict=True)]
            )
        return found

    return detect


def lbp() -> Detector:
    from skimage import data
    from skimage.feature import Cascade

    cascade = Cascade(data.lbp_frontal_face_cascade_filename())

    def detect(images: Sequence[np.ndarray]) -> list[list[Box]]:
        found = []
        for image in images:
            side = min(image.shape[:2])
            hits = cascade.detect_multi_scale(
                img=_gray(image).astype(np.float64) / 255,
                scale_factor=1.2,
                step_ratio=1,
                min_size=(MIN_FACE, MIN_FACE),
                max_size=(side, side),
            )
            found.append([Box(d["c"], d["r"], d["width"], d["height"], math.nan) for d in hits])
        return found

    return detect


def mtcnn(threshold: float = 0.9) -> Detector:
    try:
        from facenet_pytorch import MTCNN

        from expressions.serving.mtcnn import cascade, channels_last
    except ImportError:
        raise PredictionError(
            "--detector mtcnn needs torch and facenet-pytorch (pip install --no-deps "
            "facenet-pytorch==2.6.0); --detector haar or lbp need neither"
        ) from None
    import torch

    net = channels_last(MTCNN(keep_all=True, min_face_size=MIN_FACE, device=torch.device("cpu")))

    def detect(images: Sequence[np.ndarray]) -> list[list[Box]]:
        rgb = [
            np.ascontiguousarray(np.dstack([im] * 3) if im.ndim == 2 else im[..., :3])
            for im in images
        ]
        results: list[list[Box]] = [[] for _ in rgb]
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, im in enumerate(rgb):  # MTCNN batches images of one size in one pass
            by_shape.setdefault(im.shape, []).append(i)
        for index in by_shape.values():
            found = cascade(net, [rgb[i] for i in index])
            for i, (boxes, scores) in zip(index, found, strict=True):
                for (x0, y0, x1, y1), score in zip(boxes, scores, strict=True):
                    if score >= threshold:
                        results[i].append(_clipped(x0, y0, x1, y1, float(score), rgb[i].shape))
        return results

    return detect


def _clipped(x0: float, y0: float, x1: float, y1: float, score: float, shape: tuple) -> Box:
    x0, y0 = max(0, round(x0)), max(0, round(y0))
    x1, y1 = min(shape[1], round(x1)), min(shape[0], round(y1))
    return Box(x0, y0, x1 - x0, y1 - y0, score)


def make_detector(name: str) -> Detector:
    if name not in DETECTORS:
        raise PredictionError(f"--detector {name!r} is not one of {', '.join(DETECTORS)}")
    return {"mtcnn": mtcnn, "haar": haar, "lbp": lbp, "none": lambda: whole_image}[name]()


def crop(image: np.ndarray, box: Box, margin: float = MARGIN) -> np.ndarray:
    """The face with `margin` of its size added on every side, clipped to the image."""
    dx, dy = round(box.w * margin), round(box.h * margin)
    y0, x0 = max(0, box.y - dy), max(0, box.x - dx)
    return image[y0 : box.y + box.h + dy, x0 : box.x + box.w + dx]
