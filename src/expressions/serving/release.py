"""The released model: the chosen variant, calibrated, exported, and described by a model card.

Everything in the card is read from the pipeline's own outputs (params, the merged data's counts,
the variant's settings, its test metrics, the calibration just fitted), so it cannot disagree with
what was built.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from expressions import paths
from expressions.atomic import atomic_path
from expressions.config import VariantConfig
from expressions.errors import PredictionError
from expressions.serving import calibration
from expressions.serving.export import INPUT_SCALING, export_onnx
from expressions.training.batches import forward_all


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
    target: Path,
    model: torch.nn.Module,
    variant: VariantConfig,
    temperature: float,
    card: str,
    draw: Callable[[Path], None],
) -> None:
    """models/release/: model.pt (weights + settings + temperature), model.onnx, MODEL_CARD.md
    and reliability.png (drawn by `draw(path)`), all in place at once or not at all."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(target) as tmp:
        tmp.mkdir(parents=True)
        torch.save(
            {"config": variant.to_json(), "state_dict": state, "temperature": temperature},
            tmp / "model.pt",
        )
        export_onnx(model, variant, tmp / "model.onnx", temperature)
        (tmp / "MODEL_CARD.md").write_text(card, encoding="utf-8")
        draw(tmp / paths.RELIABILITY.name)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def model_card(
    variant: VariantConfig,
    metrics: dict[str, Any],
    calib: Calibration,
    label_map: dict[str, dict[str, str]],
    data_totals: dict[str, Any] | None,
) -> str:
    """MODEL_CARD.md: data and label map, recipe, Table 2, per-class recall, limits, use."""
    per_class = metrics["per_class"]
    support = {c: m["support"] for c, m in per_class.items()}
    minority = min(support, key=support.get) if support else None
    weakest = min(per_class, key=lambda c: per_class[c]["recall"]) if per_class else None
    macro, micro = metrics["macro"], metrics["micro"]
    spec = asdict(variant.model)
    recipe = {k: v for k, v in asdict(variant.train).items() if k not in ("threads", "workers")}
    mapping = [
        [dataset, original, target]
        for dataset, labels in label_map.items()
        for original, target in labels.items()
    ]
    lines = [
        "# Model card: expression-classifier",
        "",
        f"A {len(variant.classes)}-class facial-expression classifier (variant `{variant.name}`), "
        f"a CNN on {variant.image_size}x{variant.image_size} grayscale face crops, built by this "
        "project's DVC pipeline (`dvc repro release`). Every number below is read from the "
        "pipeline's own outputs.",
        "",
        "## Files",
        "",
        "- `model.pt`: PyTorch weights, settings and temperature (load with "
        "`torch.load(..., weights_only=True)`; `expressions predict --model <this folder>`).",
        "- `model.onnx`: the same network for onnxruntime, dynamic batch axis; metadata holds "
        "`classes`, `image_size`, `input_scaling`, `temperature`, `tta_flip`.",
        f"- Input: {INPUT_SCALING}. Output: logits; probabilities = softmax(logits / temperature)"
        + (", averaged with the mirrored face's." if variant.train.tta_flip else "."),
        "",
        "## Data and label map",
        "",
        f"Classes: {', '.join(variant.classes)}. Each source label below maps to a class; other "
        "labels are dropped (and counted in `metrics/data.json`).",
        "",
        _table(["dataset", "original label", "class"], mapping),
    ]
    if data_totals and isinstance(data_totals.get("datasets"), dict):
        lines += ["", "Files per dataset (`metrics/data.json`):", ""]
        keys = ("files", "skipped", "unmapped", "duplicates", "kept")
        rows = [
            [name, *(t.get(k, "") for k in keys)] for name, t in data_totals["datasets"].items()
        ]
        lines.append(_table(["dataset", *keys], rows))
    if data_totals and isinstance(data_totals.get("classes"), dict):
        lines += ["", "Images per class and split:", ""]
        keys = ("train", "val", "test", "total")
        rows = [[name, *(t.get(k, "") for k in keys)] for name, t in data_totals["classes"].items()]
        lines.append(_table(["class", *keys], rows))
    lines += [
        "",
        "## Training recipe",
        "",
        f"Model: `{json.dumps(spec)}`",
        "",
        f"Training: `{json.dumps(recipe)}`",
        "",
        f"## Table 2 on the test split ({metrics.get('test_images', '?')} images)",
        "",
        _table(
            ["accuracy", "macro P", "macro R", "macro F1 (study)", "macro F1 (sklearn)"],
            [
                [
                    f"{metrics['accuracy']:.3f}",
                    f"{macro['precision']:.3f}",
                    f"{macro['recall']:.3f}",
                    f"{macro.get('f1_study', float('nan')):.3f}",
                    f"{macro['f1']:.3f}",
                ]
            ],
        ),
        "",
        f"Micro P/R/F1: {micro['precision']:.3f} / {micro['recall']:.3f} / {micro['f1']:.3f}.",
        "",
        "## Per-class recall (test split)",
        "",
        _table(
            ["class", "precision", "recall", "test images"],
            [
                [c, f"{m['precision']:.3f}", f"{m['recall']:.3f}", m["support"]]
                for c, m in per_class.items()
            ],
        ),
        "",
        "## Calibration",
        "",
        f"Temperature scaling fitted on the validation split ({calib.val_images} images): "
        f"T = {calib.temperature:.4f}. Predictions (argmax) are unchanged; probabilities are "
        "softmax(logits / T).",
        "",
        _table(
            ["", "ECE", "NLL"],
            [
                ["before (T = 1)", f"{calib.ece_before:.4f}", f"{calib.nll_before:.4f}"],
                [
                    f"after (T = {calib.temperature:.2f})",
                    f"{calib.ece_after:.4f}",
                    f"{calib.nll_after:.4f}",
                ],
            ],
        ),
        "",
        "Reliability diagram: `reliability.png` beside this card (also in `dvc plots show`).",
        "",
        "## Known limits",
        "",
        f"- The minority class is {minority} ({support.get(minority, 0)} test images); "
        f"the lowest recall is {weakest} ({per_class[weakest]['recall']:.3f}). Expect it to be "
        "missed more often than the others.",
        f"- Trained on {variant.image_size} px grayscale crops of mostly frontal faces: profile "
        "views, occlusion, extreme lighting and very small faces (< 20 px) are out of distribution.",
        "- Four coarse classes: any other expression is forced into one of them.",
        "- If the pipeline ran on its default synthetic data, the numbers above describe drawn "
        "faces, not photos: retrain on real data before any use on people.",
        "",
        "## Intended use",
        "",
        "Research and teaching on expression recognition; aggregate, consented analysis (e.g. "
        "how an audience reacts to material) where an error harms nobody.",
        "",
        "## Must not be used for",
        "",
        "Decisions about individuals (hiring, grading, policing, credit, health, border control), "
        "inferring emotions, intent, honesty or character, surveillance or identification of "
        "people, or any use without the knowledge and consent of those pictured. An expression "
        "is not a feeling.",
        "",
    ]
    return "\n".join(lines)
