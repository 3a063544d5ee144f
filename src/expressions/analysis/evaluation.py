"""Predicting a split with a trained model: batched, no autograd, optionally mirror-averaged (TTA)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from expressions.config import VariantConfig
from expressions.core.errors import AnalysisError
from expressions.data.dataset import SPLITS, Merged
from expressions.data.views import WHOLE, View
from expressions.training.batches import view_logits
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
    views: Sequence[View] = (WHOLE,),
) -> np.ndarray:
    """Class probabilities of uint8 images [N, S, S]: the mean over `views` (the image, its
    mirror, crops: test-time augmentation), since a face's expression does not depend on which
    side is which, nor on a few pixels of framing."""
    images = torch.from_numpy(np.ascontiguousarray(x))
    logits = view_logits(model, images, batch_size, device, list(views), amp)
    return torch.stack([z.softmax(1) for z in logits]).mean(0).numpy()


def predict_split(
    model: nn.Module,
    merged: Merged,
    variant: VariantConfig,
    device: torch.device,
    split: str = "test",
) -> Predictions:
    index = np.flatnonzero(merged.split == SPLITS.index(split))
    if len(index) == 0:
        raise AnalysisError(f"the dataset has no {split} images to evaluate")
    spec = variant.train
    amp = amp_dtype(spec.amp, device)
    if spec.channels_last:
        model = model.to(memory_format=torch.channels_last)
    start = time.perf_counter()
    views = variant.views()
    proba = predict_proba(model, merged.x[index], spec.batch_size, device, amp, views)
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
