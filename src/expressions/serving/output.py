"""Prediction rows as a terminal table, CSV and JSON, and the run's one-line summary."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from expressions.core.atomic import write_text
from expressions.serving.predict import NO_FACE, Row

BASE_COLUMNS = [
    *("source", "frame", "time_s", "face", "track"),
    *("x", "y", "w", "h", "score", "predicted"),
]


def columns(classes: Sequence[str]) -> list[str]:
    return [*BASE_COLUMNS, *(f"p_{c}" for c in classes), "note"]


def record(row: Row, classes: Sequence[str]) -> dict[str, Any]:
    """One row as plain values; absent values are None (empty in CSV, null in JSON)."""
    box = row.box
    score = None if box is None or math.isnan(box.score) else round(box.score, 4)
    out: dict[str, Any] = {
        "source": row.source,
        "frame": row.frame,
        "time_s": row.time_s,
        "face": row.face,
        "track": row.track,
        "x": box and box.x,
        "y": box and box.y,
        "w": box and box.w,
        "h": box and box.h,
        "score": score,
        "predicted": row.predicted,
    }
    for c in classes:
        out[f"p_{c}"] = round(row.proba[c], 6) if c in row.proba else None
    out["note"] = row.note
    return out


def to_csv(records: list[dict[str, Any]], classes: Sequence[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns(classes), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in records)
    return buffer.getvalue()


def to_json(records: list[dict[str, Any]], classes: Sequence[str]) -> str:
    return json.dumps({"classes": list(classes), "rows": records}, indent=1) + "\n"


def table(records: list[dict[str, Any]], classes: Sequence[str]) -> str:
    """A compact terminal table: where, which face, the class and its probabilities."""
    head = ["source", "frame", "face", "box", "class", *classes]
    lines = []
    for r in records:
        box = "" if r["x"] is None else f"{r['x']},{r['y']},{r['w']}x{r['h']}"
        probs = ["" if r[f"p_{c}"] is None else f"{r[f'p_{c}']:.3f}" for c in classes]
        face = "" if r["face"] is None else str(r["face"])
        frame = "" if r["frame"] is None else str(r["frame"])
        cls = r["predicted"] or f"({r['note']})"
        lines.append([_short(r["source"]), frame, face, box, cls, *probs])
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*line).rstrip() for line in [head, *lines])


def _short(source: str, width: int = 48) -> str:
    return source if len(source) <= width else "..." + source[-(width - 3) :]


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def summary(
    records: list[dict[str, Any]],
    read: list[bool],
    files: int,
    seconds: float | None = None,
    skipped: int = 0,
) -> str:
    """'3 faces in 2 images and 10 video frames of 3 files'; `read`: one entry per picture read,
    True for a video frame. Then the files that could not be read (or were refused), the other
    files a folder held (`skipped`), and with `seconds` (the work after the model was loaded) the
    rate: '..., 126.0 s: 28 faces/s' (and the video frames/s where there were any)."""
    faces = sum(r["face"] is not None for r in records)
    frames = sum(read)
    parts = [count(len(read) - frames, "image")] if len(read) > frames or not frames else []
    pictures = " and ".join([*parts, *([count(frames, "video frame")] if frames else [])])
    line = f"{count(faces, 'face')} in {pictures} of {count(files, 'file')}"
    failed = {r["source"] for r in records if r["face"] is None and r.get("note") != NO_FACE}
    if failed:
        line += f", {count(len(failed), 'file')} not read"
    if skipped:
        line += f", {count(skipped, 'other file')} skipped (not images or videos)"
    if seconds is None:
        return line
    rate = faces / seconds if seconds > 0 else 0.0
    line = f"{line}, {seconds:.1f} s: {rate:,.0f} faces/s"
    if frames:  # a video's pace is its frames'
        line += f", {frames / seconds if seconds > 0 else 0.0:,.1f} video frames/s"
    return line


def write_records(path: Path, records: list[dict[str, Any]], classes: Sequence[str]) -> None:
    text = to_json(records, classes) if path.suffix.lower() == ".json" else to_csv(records, classes)
    write_text(path, text)
