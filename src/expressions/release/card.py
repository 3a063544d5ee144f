"""The model card: its facts written once as JSON (model_card.json), its text (MODEL_CARD.md)
rendered from them (card_markdown.py), and what `expressions predict` and `serve` read back.

Facts are gathered by the release stage from the pipeline's own outputs (params, the merged
data's counts, the variant's settings, its test metrics, the calibration just fitted), so the
card cannot disagree with what was built. This module imports no torch: a user with only the
runtime extra reads a card too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expressions.data.origins import real_faces

if TYPE_CHECKING:
    from expressions.config import VariantConfig

CARD, FACTS = "MODEL_CARD.md", "model_card.json"
NAME = "expression-classifier"
DRAWN = "trained on drawn faces: not for photos of people"
SPEED_ONLY = ("threads", "workers")  # settings that change how fast, not what is learnt


def card_facts(
    variant: VariantConfig,
    metrics: dict[str, Any],
    calibration: dict[str, Any],
    datasets: dict[str, str],
    label_map: dict[str, dict[str, str]],
    totals: dict[str, Any] | None,
    input_scaling: str,
) -> dict[str, Any]:
    """Everything the card says, from the pipeline's outputs. `datasets`: each dataset's source
    (synthetic, kaggle or local), which decides whether the model has seen real faces."""
    real = real_faces(datasets)
    names = ", ".join(datasets)
    summary = names if real else f"{names} as the project's synthetic default (drawn faces)"
    per_class = {
        c: {k: m[k] for k in ("precision", "recall", "support")}
        for c, m in metrics["per_class"].items()
    }
    return {
        "name": NAME,
        "variant": variant.name,
        "classes": list(variant.classes),
        "image_size": variant.image_size,
        "tta_flip": variant.train.tta_flip,
        "tta_crops": variant.train.tta_crops,
        "input": input_scaling,
        "data": {
            "real_faces": real,
            "summary": summary,
            "datasets": dict(datasets),
            "label_map": label_map,
            "totals": totals,
        },
        "recipe": {
            "model": asdict(variant.model),
            "train": {k: v for k, v in asdict(variant.train).items() if k not in SPEED_ONLY},
        },
        "test": {
            "images": metrics["test_images"],
            "accuracy": metrics["accuracy"],
            "macro": metrics["macro"],
            "micro": metrics["micro"],
            "per_class": per_class,
        },
        "calibration": calibration,
    }


def read_facts(folder: Path) -> dict[str, Any] | None:
    """The facts beside a model, or None for a model without a card (a variant's model.pt)."""
    path = folder / FACTS
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ModelInfo:
    """What the page's header and `/health` say about the model in use."""

    name: str
    source: str  # the model file
    classes: tuple[str, ...]
    why: str = ""  # why this model is the one in use
    variant: str | None = None
    accuracy: float | None = None  # Table 2 on the test split
    test_images: int | None = None
    trained_on: str | None = None  # the data, in a few words
    warning: str | None = None  # set for a model trained on drawn faces
    speed: str | None = None  # faces/s where it was built, as its card says


def model_info(
    path: Path, classes: Sequence[str], why: str = "", real: bool | None = None
) -> ModelInfo:
    """The card's facts about the model at `path`; `real`: what the model file itself says
    about its data (the card's word when the file says nothing)."""
    facts = read_facts(Path(path).parent)
    warning = DRAWN if real is False else None
    if facts is None:
        return ModelInfo(str(path), str(path), tuple(classes), why, warning=warning)
    test, data = facts.get("test", {}), facts.get("data", {})
    real = data.get("real_faces") if real is None else real
    return ModelInfo(
        name=facts.get("name", str(path)),
        source=str(path),
        classes=tuple(classes),
        why=why,
        variant=facts.get("variant"),
        accuracy=test.get("accuracy"),
        test_images=test.get("images"),
        trained_on=data.get("summary"),
        warning=None if real or real is None else DRAWN,
        speed=speed_words(facts.get("speed")),
    )


def speed_words(speed: dict[str, Any] | None) -> str | None:
    """'1,234 faces/s on a 2-core CPU (load 1.05)': the card's measured speed in a few words."""
    if not speed:
        return None
    return (
        f"{speed['faces_per_s']:,} faces/s on pre-cropped faces, decoding included, on a "
        f"{speed['machine']} (load {speed['load_average'][0]:.2f}, {speed['measured']})"
    )
