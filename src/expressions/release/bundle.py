"""The released model: the chosen variant, calibrated on the validation split, exported, and
described by its model card (card.py), all written as one folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from expressions.config import VariantConfig
from expressions.core import paths
from expressions.core.atomic import atomic_path
from expressions.core.errors import PredictionError
from expressions.data.views import View
from expressions.release import calibration
from expressions.release.card import ModelCard
from expressions.release.card_markdown import write_card
from expressions.release.export import export_onnx
from expressions.training.batches import view_logits
from expressions.training.model_file import LoadedModel, save_model


@dataclass(frozen=True)
class Calibration:
    temperature: float
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    val_images: int


def run_metrics(variant: str, seed: int, root: Path = Path()) -> dict[str, Any]:
    """Table 2 and Table 1 of the released run on the test split, as test@<variant>-<seed> wrote
    them (metrics/runs/<variant>/seed-<seed>/test.json): the card describes that very model."""
    path = root / paths.run_metrics(variant, seed)
    if not path.is_file():
        raise PredictionError(
            f"no test metrics for {variant} at {path}; build them with "
            f"`dvc repro test@{variant}-{seed}`"
        )
    metrics = json.loads(path.read_text())
    if "per_class" not in metrics:
        raise PredictionError(
            f"{path} holds no per-class table; rebuild it with `dvc repro test@{variant}-{seed}`"
        )
    return metrics


def val_logits(model: torch.nn.Module, x: np.ndarray, views: list[View]) -> list[np.ndarray]:
    """Logits of the validation images in every view the variant averages over."""
    images = torch.from_numpy(np.ascontiguousarray(x))
    return [z.numpy() for z in view_logits(model, images, 256, torch.device("cpu"), views)]


def calibrate(
    model: torch.nn.Module, variant: VariantConfig, x_val: np.ndarray, y_val: np.ndarray, bins: int
) -> tuple[Calibration, np.ndarray, np.ndarray]:
    """Fit the temperature on val; return it with ECE/NLL before and after, and both probas."""
    if len(y_val) == 0:
        raise PredictionError("the dataset has no validation images to fit the temperature on")
    logits = val_logits(model, x_val, variant.views())
    temperature = calibration.fit_temperature(logits, y_val)
    before, after = calibration.tempered(logits, 1.0), calibration.tempered(logits, temperature)
    result = Calibration(
        temperature=temperature,
        ece_before=round(calibration.ece(before, y_val, bins), 4),
        ece_after=round(calibration.ece(after, y_val, bins), 4),
        nll_before=round(calibration.nll(before, y_val), 4),
        nll_after=round(calibration.nll(after, y_val), 4),
        val_images=len(y_val),
    )
    return result, before, after


def write_release(
    target: Path, loaded: LoadedModel, card: ModelCard, draw: Callable[[Path], None]
) -> None:
    """models/release/: model.pt (weights + settings + temperature), model.onnx, the card
    (model_card.json and MODEL_CARD.md, card.py) and reliability.png (drawn by `draw(path)`),
    all in place at once or not at all."""
    with atomic_path(target) as tmp:
        tmp.mkdir(parents=True)
        save_model(tmp / "model.pt", loaded.model, loaded.run, loaded.temperature, loaded.origins)
        export_onnx(loaded, tmp / "model.onnx")
        write_card(tmp, card)
        draw(tmp / paths.RELIABILITY.name)
