"""One dataset from its raw layout to a compact grayscale array plus an index and a report.

The report lists every file the parser found that did not become a cleaned image, with the
reason, so the merge stage (and a reader) can account for every file of the download.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from expressions.data.images import clean_files
from expressions.data.sources import scan

INDEX_COLUMNS = ["file", "label", "split"]


@dataclass(frozen=True)
class CleanResult:
    images: np.ndarray  # uint8 [n, size, size]
    index: pd.DataFrame  # INDEX_COLUMNS, one row per image, same order
    report: dict


def clean_dataset(
    name: str,
    layout: str,
    raw_dir: Path,
    size: int,
    min_side: int,
    workers: int = 0,
    progress: bool = True,
) -> CleanResult:
    """Parse `raw_dir` as `layout`, decode every image found, and say what happened to each file."""
    found = scan(layout, raw_dir)
    cleaned = clean_files(
        [raw_dir / item.path for item in found.items], size, min_side, workers, progress
    )
    kept = [found.items[i] for i in cleaned.ok]
    index = pd.DataFrame(
        [(item.path, item.label, item.split or "") for item in kept], columns=INDEX_COLUMNS
    )
    skipped = [{"path": s.path, "reason": s.reason, "detail": s.detail} for s in found.skipped]
    skipped += [
        {"path": found.items[i].path, "reason": reason, "detail": detail}
        for i, reason, detail in cleaned.failed
    ]
    report = {
        "dataset": name,
        "layout": layout,
        "files": len(found.items) + sum(s.reason != "missing file" for s in found.skipped),
        "listed_but_missing": sum(s.reason == "missing file" for s in found.skipped),
        "images_found": len(found.items),
        "decoded": len(kept),
        "skipped": len(skipped),
        "skipped_by_reason": dict(sorted(Counter(s["reason"] for s in skipped).items())),
        "labels": _label_counts(found.items, kept),
        "skipped_files": skipped,
    }
    return CleanResult(cleaned.images, index, report)


def _label_counts(items: list, kept: list) -> dict[str, dict[str, int]]:
    found = Counter(item.label for item in items)
    decoded = Counter(item.label for item in kept)
    return {label: {"found": found[label], "decoded": decoded[label]} for label in sorted(found)}


def save_clean(out_dir: Path, result: CleanResult) -> None:
    """Write into `out_dir` (a fresh temporary folder the caller renames into place)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "images.npy", result.images)
    result.index.to_csv(out_dir / "index.csv", index=False)


def load_clean(out_dir: Path) -> tuple[np.ndarray, pd.DataFrame]:
    index = pd.read_csv(out_dir / "index.csv", dtype=str, keep_default_na=False)
    return np.load(out_dir / "images.npy"), index
