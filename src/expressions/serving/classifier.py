"""A trained classifier behind one interface, whether it is a PyTorch checkpoint or an ONNX file.

`predict` only needs classes, image size and probabilities for uint8 faces, so it works the same
with either. This module imports neither torch nor onnxruntime at import time: a user who
installed only the runtime extra runs ONNX models without torch ever being imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from expressions.release.onnx_model import OnnxClassifier


class Classifier(Protocol):
    classes: tuple[str, ...]
    image_size: int
    real_faces: bool | None  # False: learnt from drawn faces only; None: the file does not say

    def proba(self, faces: np.ndarray) -> np.ndarray:
        """uint8 [N, S, S] faces -> float32 [N, C] probabilities, rows summing to 1."""
        ...


def load_file(path: Path, batch_size: int = 32) -> Classifier:
    if path.suffix == ".onnx":
        return OnnxClassifier.load(path)
    from expressions.serving.torch_model import TorchClassifier  # imports torch: only here

    return TorchClassifier.load(path, batch_size)
