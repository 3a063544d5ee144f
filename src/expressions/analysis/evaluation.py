"""Predicting a split with a trained model: batched, no autograd, optionally mirror-averaged (TTA)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from expressions.config import TrainSpec
from expressions.core.errors import AnalysisError
from expressions.data.dataset import SPLITS, Merged
from expressions.training.batches import forward_all
from expressions.training.device import amp_dtype


@dataclass
class Predictions:
    index: np.ndarray  # rows of dataset.npz
    actual: np.ndarray  # class index per row
    proba: np.ndarray  # float32 [N, C], rows sum to 1
    images_per_s: float

    @property
    def predicted(self) -> np.ndarray:
        return self.proba.argmax(1)


def predict_proba(
    model: nn.Module,
    x: np.ndarray,
    batch_size: int,
    device: torch.device,
    amp: torch.dtype | None = None,
    tta_flip: bool = False,
) -> np.ndarray:
    """Class probabilities of uint8 images [N, S, S]; with tta_flip, the mean of the image's
    and its mirror's, since a face's expression does not depend on which side is which."""
    images = torch.from_numpy(np.ascontiguousarray(x))
    proba = forward_all(model, images, batch_size, device, amp).softmax(1)
    if tta_flip:
        mirrored = forward_all(model, images, batch_size, device, amp, mirror=True).softmax(1)
        proba = (proba + mirrored) / 2
    return proba.numpy()


def predict_split(
    model: nn.Module, merged: Merged, spec: TrainSpec, device: torch.device, split: str = "test"
) -> Predictions:
    index = np.flatnonzero(merged.split == SPLITS.index(split))
    if len(index) == 0:
        raise AnalysisError(f"the dataset has no {split} images to evaluate")
    amp = amp_dtype(spec.amp, device)
    if spec.channels_last:
        model = model.to(memory_format=torch.channels_last)
    start = time.perf_counter()
    proba = predict_proba(model, merged.x[index], spec.batch_size, device, amp, spec.tta_flip)
    seconds = time.perf_counter() - start
    return Predictions(index, merged.y[index], proba, len(index) / seconds)


def predictions_frame(predictions: Predictions, classes: Sequence[str]) -> pd.DataFrame:
    """One row per image: index, actual, predicted, confidence, p_<Class>... (names, not ids)."""
    names = np.asarray(classes)
    frame = pd.DataFrame(
        {
            "index": predictions.index,
            "actual": names[predictions.actual],
            "predicted": names[predictions.predicted],
            "confidence": predictions.proba.max(1),
        }
    )
    for i, name in enumerate(classes):
        frame[f"p_{name}"] = predictions.proba[:, i]
    return frame
