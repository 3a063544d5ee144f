"""One dataset from its raw layout to a compact grayscale array plus an index and a report.

The report lists every file the parser found that did not become a cleaned image, with the
reason, so the merge stage (and a reader) can account for every file of the download.

Memory stays bounded whatever the inputs: each image's pixel count is read from its header
(PIL reads only the header on open) and an image over `data.limits.megapixels` is skipped as
"too large" before any worker decodes it; the cleaned images themselves are size x size bytes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from expressions.data.images import clean_files, header_size
from expressions.data.limits import MAX_MEGAPIXELS
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
    megapixels: float = MAX_MEGAPIXELS,
) -> CleanResult:
    """Parse `raw_dir` as `layout`, decode every image found, and say what happened to each file."""
    found = scan(layout, raw_dir)
    files = [raw_dir / item.path for item in found.items]
    too_large = {i: why for i, path in enumerate(files) if (why := oversized(path, megapixels))}
    todo = [i for i in range(len(files)) if i not in too_large]
    cleaned = clean_files([files[i] for i in todo], size, min_side, workers, progress)
    kept = [found.items[todo[i]] for i in cleaned.ok]
    index = pd.DataFrame(
        [(item.path, item.label, item.split or "") for item in kept], columns=INDEX_COLUMNS
    )
    skipped = [{"path": s.path, "reason": s.reason, "detail": s.detail} for s in found.skipped]
    failed = [(todo[i], reason, detail) for i, reason, detail in cleaned.failed]
    failed += [(i, "too large", detail) for i, detail in too_large.items()]
    skipped += [
        {"path": found.items[i].path, "reason": reason, "detail": detail}
        for i, reason, detail in sorted(failed)
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


def oversized(path: Path, megapixels: float) -> str | None:
    """Why `path` is too large to decode (one sentence naming the limit and its param), or None.

    Only the header is read. All frames count (a GIF decodes to every frame at once), but frames
    are counted only when one already fits, since counting walks the file. A file PIL cannot
    identify is left to the decoder, which reports it as unreadable.
    """
    limit = megapixels * 1_000_000
    why = "is more than data.limits.megapixels ({:g}); raise it to keep this image"
    try:
        size = header_size(path)
        if size is not None and size[0] * size[1] <= limit:
            size = header_size(path, frames=True)
    except Image.DecompressionBombError:  # PIL's own ceiling, far above ours: too large anyway
        return f"over {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels " + why.format(
            megapixels
        )
    if size is None:  # not identifiable here: the decoder says why
        return None
    width, height, count = size
    pixels = width * height * count
    if pixels <= limit:
        return None
    frames = pixels // max(width * height, 1)
    shape = f"{width}x{height} px" + (f" x {frames} frames" if frames > 1 else "")
    return f"{shape} ({pixels / 1e6:.3g} megapixels) " + why.format(megapixels)


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
