"""A model.pt as a Classifier: read by training/model_file.py (as data only), its BatchNorm
folded for speed, predicting as evaluation does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from expressions.data.views import View
from expressions.training.batches import view_logits
from expressions.training.device import amp_dtype
from expressions.training.model import ExpressionNet
from expressions.training.model_file import load_model


def fold_batch_norm(model: nn.Module) -> nn.Module:
    """Each block's BatchNorm folded into its conv: the same function in eval mode (to float
    rounding), one layer fewer to run, about twice the faces/s on a CPU (make bench).

    The study CNN only: an ImageNet backbone (backbones.py) runs as it is.
    """
    if not isinstance(model, ExpressionNet):
        return model
    for block in model.blocks:
        block.conv = fuse_conv_bn_eval(block.conv, block.norm)
        block.norm = nn.Identity()
    return model


@dataclass
class TorchClassifier:
    model: nn.Module
    classes: tuple[str, ...]
    image_size: int
    temperature: float
    views: list[View]  # what the probabilities average over, as evaluation's do
    batch_size: int
    amp: torch.dtype | None = None  # bf16 autocast when trained with bf16 and the CPU has it
    real_faces: bool | None = None

    @classmethod
    def load(cls, path: Path, batch_size: int = 32) -> TorchClassifier:
        """batch_size 32: on a 2-core CPU small batches stay in cache (64 and 256 measured slower)."""
        loaded = load_model(path)
        model, variant, temperature = loaded.model, loaded.variant, loaded.temperature
        model = fold_batch_norm(model)
        if variant.train.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return cls(
            model,
            variant.classes,
            variant.image_size,
            temperature,
            variant.views(),
            batch_size,
            amp_dtype(variant.train.amp, torch.device("cpu"), verbose=False),
            loaded.real_faces,
        )

    def proba(self, faces: np.ndarray) -> np.ndarray:
        """As evaluation computes it: the same batching code, the mean over the same views."""
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        x = torch.from_numpy(np.ascontiguousarray(faces))
        logits = view_logits(
            self.model, x, self.batch_size, torch.device("cpu"), self.views, self.amp
        )
        return torch.stack([(z / self.temperature).softmax(1) for z in logits]).mean(0).numpy()
