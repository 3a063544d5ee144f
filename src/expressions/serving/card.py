"""What the web page says about a model, read from the MODEL_CARD.md that lies beside it.

The card is written by `release.model_card` from the pipeline's own outputs (name, variant,
Table 2), so the page shows the numbers that were measured rather than a second copy of them.
A model without a card (a variant's models/<variant>/model.pt) is named by its file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CARD = "MODEL_CARD.md"
_NAME = re.compile(r"^# Model card: (.+)$", re.M)
_VARIANT = re.compile(r"\(variant `([^`]+)`\)")
# The heading, a blank line, the table's head and rule, then its one row: accuracy comes first.
_TABLE2 = re.compile(
    r"^## Table 2 on the test split \((\d+|\?) images\)\n\n.*\n.*\n\| ([0-9.]+) \|", re.M
)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str  # the model file
    classes: tuple[str, ...]
    variant: str | None = None
    accuracy: float | None = None  # Table 2 on the test split
    test_images: int | None = None


def model_info(path: Path, classes: Sequence[str]) -> ModelInfo:
    card = path.parent / CARD
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    name, variant, table2 = _NAME.search(text), _VARIANT.search(text), _TABLE2.search(text)
    return ModelInfo(
        name=name.group(1).strip() if name else str(path),
        source=str(path),
        classes=tuple(classes),
        variant=variant.group(1) if variant else None,
        accuracy=float(table2.group(2)) if table2 else None,
        test_images=int(table2.group(1)) if table2 and table2.group(1).isdigit() else None,
    )
