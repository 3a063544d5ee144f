"""The merged dataset on disk: one uncompressed .npz the trainer reads in a single pass.

Images stay uint8 (a quarter of float32's size) so the whole set sits in memory and an epoch
never decodes an image file; the CSV manifest beside it says where every row came from.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from expressions.core.atomic import atomic_path
from expressions.core.errors import DataError

SPLITS = ("train", "val", "test")
MANIFEST_COLUMNS = ["file", "dataset", "label", "class", "split"]  # manifest.csv, one row per image


@dataclass(frozen=True)
class Merged:
    x: np.ndarray  # uint8 [N, S, S], grayscale
    y: np.ndarray  # int64 [N], index into classes
    split: np.ndarray  # uint8 [N], index into SPLITS
    classes: tuple[str, ...]
    origins: dict[str, str] | None = None  # dataset -> synthetic | kaggle | local (origins.py)

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Images and labels of one split ("train" | "val" | "test")."""
        mask = self.split == SPLITS.index(name)
        return self.x[mask], self.y[mask]


def save_merged(path: Path, merged: Merged) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            x=merged.x.astype(np.uint8, copy=False),
            y=merged.y.astype(np.int64, copy=False),
            split=merged.split.astype(np.uint8, copy=False),
            classes=np.array(merged.classes, dtype=str),
            origins=np.array(json.dumps(merged.origins or {}, sort_keys=True)),
        )


def load_merged(path: Path) -> Merged:
    with np.load(path, allow_pickle=False) as z:
        origins = json.loads(str(z["origins"])) if "origins" in z.files else None
        return Merged(
            x=z["x"],
            y=z["y"],
            split=z["split"],
            classes=tuple(str(c) for c in z["classes"]),
            origins=origins or None,
        )


def load_sources(manifest: Path, rows: int) -> np.ndarray:
    """The source dataset of each of the `rows` rows of dataset.npz, which the manifest lists in
    the same order; a manifest of another length is from another merge, and would mislabel."""
    try:
        with open(manifest, newline="") as fh:
            sources = np.array([row["dataset"] for row in csv.DictReader(fh)], dtype=str)
    except (OSError, KeyError) as err:
        why = "not found" if isinstance(err, FileNotFoundError) else f"unreadable ({err})"
        raise DataError(f"{manifest} is {why}; rebuild it with `dvc repro merge`") from None
    if len(sources) != rows:
        raise DataError(
            f"{manifest} lists {len(sources)} images but the dataset holds {rows}; "
            "rebuild both with `dvc repro merge`"
        )
    return sources
