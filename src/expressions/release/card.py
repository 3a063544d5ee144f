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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expressions.data.origins import real_faces

if TYPE_CHECKING:
    from expressions.config import VariantConfig

CARD, FACTS = "MODEL_CARD.md", "model_card.json"
NAME = "expression-classifier"
DRAWN = "trained on drawn faces: not for photos of people"


@dataclass(frozen=True)
class Speed:
    """How fast the model classified where it was built (a shipped model's card)."""

    faces_per_s: int
    faces: int
    load_average: list[float]
    machine: str
    command: str
    measured: str  # the date


@dataclass(frozen=True)
class CardData:
    real_faces: bool  # learnt from photos of people only; False for drawn faces
    summary: str  # the data in a few words
    datasets: dict[str, str]  # dataset -> synthetic | kaggle | local
    label_map: dict[str, dict[str, str]]
    totals: dict[str, Any] | None  # metrics/data.json, where the release stage found one
    description: str | None = None  # a shipped model's data, in the words of whoever built it


@dataclass(frozen=True)
class ModelCard:
    """Every fact of a model's card: model_card.json holds it, MODEL_CARD.md renders it."""

    name: str
    variant: str
    classes: list[str]
    image_size: int
    tta_flip: bool
    tta_crops: bool
    input: str
    data: CardData
    recipe: dict[str, dict[str, Any]]  # model and train settings, as the variant resolved them
    test: dict[str, Any]  # Table 2 and per-class scores on the test split
    calibration: dict[str, Any]  # release/calibration.Calibration
    # What a shipped model adds (with_build_facts); a pipeline release has none of these
    licence: str | None = None
    distilled: dict[str, Any] | None = None  # a student's teacher, and its int8 trial
    speed: Speed | None = None
    built: str | None = None  # how, where and when

    def to_json(self) -> str:
        raw = asdict(self)
        for key in ("licence", "distilled", "speed", "built"):
            if raw[key] is None:
                del raw[key]
        if raw["data"]["description"] is None:
            del raw["data"]["description"]
        return json.dumps(raw, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        raw = json.loads(text)
        speed = raw.pop("speed", None)
        data = CardData(**raw.pop("data"))
        return cls(**raw, data=data, speed=Speed(**speed) if speed else None)


def card_facts(
    variant: VariantConfig,
    metrics: dict[str, Any],
    calibration: dict[str, Any],
    datasets: dict[str, str],
    label_map: dict[str, dict[str, str]],
    totals: dict[str, Any] | None,
    input_scaling: str,
) -> ModelCard:
    """Everything the card says, from the pipeline's outputs. `datasets`: each dataset's source
    (synthetic, kaggle or local), which decides whether the model has seen real faces."""
    real = real_faces(datasets)
    names = ", ".join(datasets)
    summary = names if real else f"{names} as the project's synthetic default (drawn faces)"
    per_class = {
        c: {k: m[k] for k in ("precision", "recall", "support")}
        for c, m in metrics["per_class"].items()
    }
    return ModelCard(
        name=NAME,
        variant=variant.name,
        classes=list(variant.classes),
        image_size=variant.image_size,
        tta_flip=variant.train.tta_flip,
        tta_crops=variant.train.tta_crops,
        input=input_scaling,
        data=CardData(real, summary, dict(datasets), label_map, totals),
        recipe={"model": asdict(variant.model), "train": asdict(variant.train)},
        test={
            "images": metrics["test_images"],
            "accuracy": metrics["accuracy"],
            "macro": metrics["macro"],
            "micro": metrics["micro"],
            "per_class": per_class,
        },
        calibration=calibration,
    )


def with_build_facts(
    card: ModelCard,
    *,
    name: str,
    description: str,
    licence: str,
    built: str,
    speed: Speed | None = None,
    distilled: dict[str, Any] | None = None,
) -> ModelCard:
    """The one place a shipped model's build facts join the card its pipeline wrote: its name,
    its data in words, its licence, how it was built, and where measured, its speed."""
    return replace(
        card,
        name=name,
        data=replace(card.data, description=description),
        licence=licence,
        built=built,
        speed=speed,
        distilled=distilled,
    )


def read_facts(folder: Path) -> ModelCard | None:
    """The card beside a model, or None for a model without one (a variant's model.pt)."""
    path = folder / FACTS
    try:
        return ModelCard.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError, TypeError):
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
    card = read_facts(Path(path).parent)
    warning = DRAWN if real is False else None
    if card is None:
        return ModelInfo(str(path), str(path), tuple(classes), why, warning=warning)
    real = card.data.real_faces if real is None else real
    return ModelInfo(
        name=card.name,
        source=str(path),
        classes=tuple(classes),
        why=why,
        variant=card.variant,
        accuracy=card.test.get("accuracy"),
        test_images=card.test.get("images"),
        trained_on=card.data.summary,
        warning=None if real else DRAWN,
        speed=speed_words(card.speed),
    )


def speed_words(speed: Speed | None) -> str | None:
    """'1,234 faces/s on a 2-core CPU (load 1.05)': the card's measured speed in a few words."""
    if speed is None:
        return None
    return (
        f"{speed.faces_per_s:,} faces/s on pre-cropped faces, decoding included, on a "
        f"{speed.machine} (load {speed.load_average[0]:.2f}, {speed.measured})"
    )
