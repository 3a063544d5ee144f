"""A PyTorch checkpoint as a Classifier, loaded as data only (`weights_only=True`).

A checkpoint is a file people download and share: unpickling arbitrary objects from it would run
whatever code it carries. Only tensors and plain values are read; anything else is refused.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from expressions.config import VariantConfig
from expressions.errors import PredictionError
from expressions.training.batches import forward_all
from expressions.training.device import amp_dtype
from expressions.training.model import ExpressionNet, build_model


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's dict (config, state_dict, optional temperature), or one sentence why not."""
    if not Path(path).is_file():
        raise PredictionError(f"no model checkpoint at {path}; build it with `dvc repro train`")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).strip().splitlines()[0].removeprefix("Weights only load failed. ")
        raise PredictionError(
            f"{path} holds pickled objects, not just weights, and is refused because loading it "
            f"could run code ({reason[:160]})"
        ) from None
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise PredictionError(
            f"{path} is not a readable model checkpoint ({first[:160]})"
        ) from None
    if not isinstance(saved, dict) or not {"config", "state_dict"} <= set(saved):
        raise PredictionError(f"{path} is not a model saved by this project (no config/state_dict)")
    return saved


def load_checkpoint(path: Path) -> tuple[nn.Module, VariantConfig, float]:
    """Model in eval mode on the CPU, the settings it was trained with, and its temperature."""
    saved = read_checkpoint(path)
    try:
        variant = VariantConfig.from_json(saved["config"])
        model = build_model(variant.model, len(variant.classes), variant.image_size)
        model.load_state_dict(saved["state_dict"])
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise PredictionError(f"{path} does not match its own settings ({first[:160]})") from None
    return model.eval(), variant, float(saved.get("temperature", 1.0))


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
    tta_flip: bool
    batch_size: int
    amp: torch.dtype | None = (
        None  # bf16 autocast when trained with train.amp bf16 and the CPU has it
    )

    @classmethod
    def load(cls, path: Path, batch_size: int = 32) -> TorchClassifier:
        """batch_size 32: on a 2-core CPU small batches stay in cache (64 and 256 measured slower)."""
        model, variant, temperature = load_checkpoint(path)
        model = fold_batch_norm(model)
        if variant.train.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return cls(
            model,
            variant.classes,
            variant.image_size,
            temperature,
            variant.train.tta_flip,
            batch_size,
            amp_dtype(variant.train.amp, torch.device("cpu"), verbose=False),
        )

    def proba(self, faces: np.ndarray) -> np.ndarray:
        """As evaluation computes it (same batching code, mirror-averaged when trained with TTA)."""
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        x = torch.from_numpy(np.ascontiguousarray(faces))
        device = torch.device("cpu")
        logits = forward_all(self.model, x, self.batch_size, device, self.amp)
        proba = (logits / self.temperature).softmax(1)
        if self.tta_flip:
            mirrored = forward_all(self.model, x, self.batch_size, device, self.amp, mirror=True)
            proba = (proba + (mirrored / self.temperature).softmax(1)) / 2
        return proba.numpy()
