"""Each person in a video over time: a per-track summary (when they were seen, for how many
frames, the share of that time in each expression) and a timeline of their probabilities, as a
PNG and as a Vega-Lite spec (the format of the pipeline's plots, for a notebook or a page)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from expressions.core.atomic import atomic_path, write_text
from expressions.serving.annotate import annotated_name

MOST_DRAWN = 8  # tracks drawn per video, those seen longest; the summary keeps every track
VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"


def tracked(records: Sequence[dict[str, Any]]) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """The rows of each video's tracks: {source: {track: rows in frame order}}."""
    videos: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.get("track") is not None:
            videos[r["source"]][r["track"]].append(r)
    return videos


def track_summary(
    records: Sequence[dict[str, Any]], classes: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per person per video: first and last time seen, frames seen, the expression they
    showed most and the share of their frames in each (by the smoothed label)."""
    out = []
    for source, tracks in tracked(records).items():
        for track, rows in sorted(tracks.items()):
            labels = [r["predicted"] for r in rows]
            shares = {c: round(labels.count(c) / len(labels), 4) for c in classes}
            out.append(
                {
                    "source": source,
                    "track": track,
                    "first_s": rows[0]["time_s"],
                    "last_s": rows[-1]["time_s"],
                    "first_frame": rows[0]["frame"],
                    "last_frame": rows[-1]["frame"],
                    "frames": len(rows),
                    "mostly": max(classes, key=shares.__getitem__),
                    **{f"share_{c}": shares[c] for c in classes},
                }
            )
    return out


def write_tracks(path: Path, summary: list[dict[str, Any]]) -> None:
    """--tracks FILE: JSON where the name ends in .json, else CSV."""
    if path.suffix.lower() == ".json":
        write_text(path, json.dumps({"tracks": summary}, indent=1) + "\n")
        return
    import csv
    import io

    buffer = io.StringIO()
    if summary:
        writer = csv.DictWriter(buffer, list(summary[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in summary)
    write_text(path, buffer.getvalue())


def _x(row: dict[str, Any]) -> float:
    return row["time_s"] if row["time_s"] is not None else row["frame"]


def _gaps(rows: list[dict[str, Any]]) -> list[bool]:
    """True where a track was unseen just before this row (more than twice its usual step): the
    line breaks there rather than drawing a guess across the gap."""
    steps = [b["frame"] - a["frame"] for a, b in pairwise(rows)]
    usual = min(steps, default=1)
    return [False, *(step > 2 * usual for step in steps)]


def timeline_spec(tracks: dict[int, list[dict[str, Any]]], classes: Sequence[str]) -> dict:
    """A Vega-Lite line chart, one panel per track, its data inline."""
    values = [
        {"track": t, "x": _x(r), "class": c, "p": r[f"p_{c}"]}
        for t, rows in sorted(tracks.items())
        for r in rows
        for c in classes
    ]
    seconds = all(r["time_s"] is not None for rows in tracks.values() for r in rows)
    return {
        "$schema": VEGA_LITE,
        "data": {"values": values},
        "mark": "line",
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": "s" if seconds else "frame"},
            "y": {"field": "p", "type": "quantitative", "title": "probability"},
            "color": {"field": "class", "type": "nominal", "sort": list(classes)},
            "row": {"field": "track", "type": "ordinal", "title": "track"},
        },
    }


def write_timelines(
    records: Sequence[dict[str, Any]], classes: Sequence[str], folder: Path
) -> list[Path]:
    """--timeline DIR: <video>.timeline.png and <video>.timeline.json for each video with tracks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source, tracks in tracked(records).items():
        base = folder / f"{annotated_name(source)}.timeline"
        spec, png = base.with_name(base.name + ".json"), base.with_name(base.name + ".png")
        write_text(spec, json.dumps(timeline_spec(tracks, classes)) + "\n")
        drawn = sorted(tracks, key=lambda t: -len(tracks[t]))[:MOST_DRAWN]
        fig, axes = plt.subplots(len(drawn), 1, figsize=(8, 1.8 * len(drawn) + 0.6), squeeze=False)
        for ax, track in zip(axes[:, 0], sorted(drawn), strict=True):
            rows = tracks[track]
            xs, gaps = [_x(r) for r in rows], _gaps(rows)
            for c in classes:
                ys = [math.nan if gap else r[f"p_{c}"] for r, gap in zip(rows, gaps, strict=True)]
                ax.plot(xs, ys, label=c, lw=1.2)
            ax.set_ylim(0, 1)
            ax.set_ylabel(f"track {track}")
        axes[0, 0].legend(ncol=len(classes), fontsize=7, loc="upper center", frameon=False)
        seconds = all(r["time_s"] is not None for rows in tracks.values() for r in rows)
        axes[-1, 0].set_xlabel("seconds" if seconds else "frame")
        shown = "" if len(drawn) == len(tracks) else f" ({len(drawn)} of {len(tracks)} tracks)"
        fig.suptitle(f"{Path(source).name}{shown}", fontsize=9)
        fig.tight_layout()
        with atomic_path(png) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
        written += [png, spec]
    return written
