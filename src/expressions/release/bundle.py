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
from expressions.release import calibration
from expressions.release.card import write_card
from expressions.release.export import export_onnx
from expressions.training.batches import forward_all
from expressions.training.model_file import LoadedModel, save_model


@dataclass(frozen=True)
class Calibration:
    temperature: float
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    val_images: int


def test_metrics(variant: str, root: Path = Path()) -> dict[str, Any]:
    """Table 2 and Table 1 of `variant` on the test split, as evaluate@<variant> wrote them:
    metrics/test/<variant>.json (headline) + metrics/tables/<variant>.json (per class)."""
    headline, tables = root / paths.test_metrics(variant), root / paths.tables(variant)
    if not headline.is_file():
        raise PredictionError(
            f"no test metrics for {variant} at {paths.test_metrics(variant)}; "
            f"build them with `dvc repro evaluate@{variant}`"
        )
    metrics = json.loads(headline.read_text())
    if tables.is_file():
        metrics.update(json.loads(tables.read_text()))
    if "per_class" not in metrics:
        raise PredictionError(
            f"{paths.tables(variant)} holds no per-class table; rebuild it with "
            f"`dvc repro evaluate@{variant}`"
        )
    return metrics


def val_logits(model: torch.nn.Module, x: np.ndarray, tta_flip: bool) -> list[np.ndarray]:
    """Logits of the validation images (and of their mirrors when the variant averages them)."""
    images = torch.from_numpy(np.ascontiguousarray(x))
    device = torch.device("cpu")
    out = [forward_all(model, images, 256, device).numpy()]
    if tta_flip:
        out.append(forward_all(model, images, 256, device, mirror=True).numpy())
    return out


def calibrate(
    model: torch.nn.Module, variant: VariantConfig, x_val: np.ndarray, y_val: np.ndarray, bins: int
) -> tuple[Calibration, np.ndarray, np.ndarray]:
    """Fit the temperature on val; return it with ECE/NLL before and after, and both probas."""
    if len(y_val) == 0:
        raise PredictionError("the dataset has no validation images to fit the temperature on")
    logits = val_logits(model, x_val, variant.train.tta_flip)
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
    target: Path, loaded: LoadedModel, facts: dict[str, Any], draw: Callable[[Path], None]
) -> None:
    """models/release/: model.pt (weights + settings + temperature), model.onnx, the card
    (model_card.json and MODEL_CARD.md, card.py) and reliability.png (drawn by `draw(path)`),
    all in place at once or not at all."""
    with atomic_path(target) as tmp:
        tmp.mkdir(parents=True)
        save_model(
            tmp / "model.pt", loaded.model, loaded.variant, loaded.temperature, loaded.origins
        )
        export_onnx(loaded, tmp / "model.onnx")
        write_card(tmp, facts)
        draw(tmp / paths.RELIABILITY.name)
