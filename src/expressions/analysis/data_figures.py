"""Figures and DVC plot data about the merged dataset, before any model sees it.

They answer the questions a reader of the study asks first: how many images of each class are in
each split and come from each source dataset, whether the classes differ in brightness (a shortcut
a CNN could learn), and what the faces actually look like after merging and resizing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from expressions.analysis.figures import (
    SMALL_SIZE,
    class_colors,
    new_figure,
    no_data,
    save_png,
    show_image,
)
from expressions.core.atomic import write_text
from expressions.core.errors import AnalysisError
from expressions.data.dataset import MANIFEST_COLUMNS, SPLITS, Merged

HIST_BIN = 4  # intensity histogram bin width, in grey levels


def read_manifest(path: Path | str, merged: Merged) -> pd.DataFrame:
    """The manifest CSV, checked to describe the same rows as the dataset it sits beside."""
    path = Path(path)
    if not path.exists():
        raise AnalysisError(f"{path} not found; run the merge stage first (dvc repro merge)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in MANIFEST_COLUMNS if c not in frame.columns]
    if missing:
        raise AnalysisError(f"{path} lacks column(s) {', '.join(missing)}")
    if len(frame) != len(merged.y):
        raise AnalysisError(
            f"{path} has {len(frame)} rows but the dataset has {len(merged.y)} images"
        )
    return frame


def split_counts(merged: Merged) -> pd.DataFrame:
    """Images per (class, split), zeros included, in class then split order: the DVC plot data."""
    rows = [
        {
            "class": name,
            "split": split,
            "count": int(np.sum((merged.y == c) & (merged.split == s))),
        }
        for c, name in enumerate(merged.classes)
        for s, split in enumerate(SPLITS)
    ]
    frame = pd.DataFrame(rows, columns=["class", "split", "count"])
    frame["bar"] = frame["class"] + " / " + frame["split"]
    return frame


def source_counts(merged: Merged, manifest: pd.DataFrame) -> pd.DataFrame:
    """Images per (source dataset, class), zeros included, datasets in manifest order."""
    datasets = list(dict.fromkeys(manifest["dataset"]))
    names = np.asarray(merged.classes)[merged.y]
    table = pd.crosstab(manifest["dataset"].to_numpy(), names)
    rows = [
        {
            "dataset": d,
            "class": c,
            "count": int(table.at[d, c]) if c in table.columns else 0,
        }
        for d in datasets
        for c in merged.classes
    ]
    frame = pd.DataFrame(rows, columns=["dataset", "class", "count"])
    frame["bar"] = frame["dataset"] + " / " + frame["class"]
    return frame


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """A plot data file for `dvc plots`, written atomically."""
    write_text(path, frame.to_csv(index=False))
    return Path(path)


def _grouped_bars(ax, frame: pd.DataFrame, group: str, classes: Sequence[str]) -> None:
    """Bars of `count` for each value of `group`, one bar per class in the class's colour."""
    groups = list(dict.fromkeys(frame[group]))
    colors = class_colors(classes)
    width = 0.8 / max(len(classes), 1)
    top = max(int(frame["count"].max()), 1)
    for i, name in enumerate(classes):
        sub = frame[frame["class"] == name].set_index(group).reindex(groups)
        counts = sub["count"].fillna(0).astype(int).to_numpy()
        xs = np.arange(len(groups)) + (i - (len(classes) - 1) / 2) * width
        ax.bar(xs, counts, width=width, color=colors[name], label=name)
        for x, n in zip(xs, counts, strict=True):
            ax.text(x, n + top * 0.01, str(n), ha="center", va="bottom", fontsize=SMALL_SIZE - 1)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("Images")
    ax.grid(axis="y", alpha=0.3)


def plot_counts(
    splits: pd.DataFrame, sources: pd.DataFrame, classes: Sequence[str], path: Path | str
) -> Path:
    """Two bar charts: class counts per split and per source dataset (12 x 5 in)."""
    fig = new_figure(12, 5)
    left, right = fig.subplots(1, 2)
    _grouped_bars(left, splits, "split", classes)
    left.set_title("Images per class in each split")
    left.set_xlabel("Split")
    _grouped_bars(right, sources, "dataset", classes)
    right.set_title("Images per class from each source dataset")
    right.set_xlabel("Source dataset")
    fig.legend(*right.get_legend_handles_labels(), title="Class", loc="outside right upper")
    fig.suptitle(f"Class distribution of the merged dataset ({int(splits['count'].sum())} images)")
    return save_png(fig, path)


def grey_histogram(images: np.ndarray) -> np.ndarray:
    """Share of pixels in each HIST_BIN-wide grey-level bin (bincount: fast on millions)."""
    counts = np.bincount(images.reshape(-1), minlength=256).astype(float)
    binned = counts.reshape(-1, HIST_BIN).sum(axis=1)
    return binned / max(binned.sum(), 1.0)


def plot_intensity(merged: Merged, path: Path | str) -> Path:
    """Pixel-intensity distribution of each class as overlaid step lines on one axis (10 x 5 in)."""
    fig = new_figure(10, 5)
    ax = fig.subplots()
    colors = class_colors(merged.classes)
    edges = np.arange(0, 257, HIST_BIN)
    for c, name in enumerate(merged.classes):
        images = merged.x[merged.y == c]
        if images.size == 0:
            continue
        share = grey_histogram(images)
        label = f"{name} (n={len(images)}, mean {images.mean():.1f})"
        ax.stairs(share * 100, edges, color=colors[name], linewidth=2, label=label)
    ax.set_xlim(0, 256)
    ax.set_xlabel("Pixel intensity (0 = black, 255 = white)")
    ax.set_ylabel(f"Share of pixels per {HIST_BIN}-level bin (%)")
    ax.set_title("Pixel-intensity distribution per class (all splits)")
    ax.grid(alpha=0.3)
    if ax.has_data():
        ax.legend(title="Class")
    else:
        no_data(fig, "The dataset has no images")
    return save_png(fig, path)


def pick_samples(y: np.ndarray, n_classes: int, per_class: int, seed: int) -> list[np.ndarray]:
    """Up to `per_class` row indices per class, drawn with a fixed seed so reruns match."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in range(n_classes):
        rows = np.flatnonzero(y == c)
        take = min(per_class, len(rows))
        picks.append(np.sort(rng.choice(rows, size=take, replace=False)) if take else rows)
    return picks


def samples_size(n_classes: int, per_class: int) -> tuple[float, float]:
    """Figure size in inches of the sample grid (1.3 in per image plus margins)."""
    return 1.3 * per_class + 0.8, 1.5 * n_classes + 0.7


def plot_samples(
    merged: Merged,
    datasets: Sequence[str],
    path: Path | str,
    *,
    per_class: int = 8,
    seed: int = 0,
) -> Path:
    """A grid of seeded random images, one row per class, each captioned with its source dataset."""
    n = len(merged.classes)
    fig = new_figure(*samples_size(n, per_class))
    axes = np.asarray(fig.subplots(n, per_class, squeeze=False))
    colors = class_colors(merged.classes)
    picks = pick_samples(merged.y, n, per_class, seed)
    for c, name in enumerate(merged.classes):
        for j in range(per_class):
            ax = axes[c, j]
            if j >= len(picks[c]):
                ax.set_axis_off()
                continue
            row = int(picks[c][j])
            show_image(ax, merged.x[row], color=colors[name])
            ax.set_xlabel(f"{datasets[row]} · {SPLITS[merged.split[row]]}", fontsize=SMALL_SIZE)
        axes[c, 0].set_ylabel(name, fontsize=13, color=colors[name], fontweight="bold")
    fig.suptitle(f"Random images per class (seed {seed}; caption: source dataset · split)")
    return save_png(fig, path)


def visualize(
    merged: Merged, manifest: pd.DataFrame, out_dir: Path | str, *, seed: int = 0
) -> list[Path]:
    """All data figures and plot data files into `out_dir`; returns the paths written."""
    out = Path(out_dir)
    splits = split_counts(merged)
    sources = source_counts(merged, manifest)
    return [
        write_csv(splits, out / "counts.csv"),
        write_csv(sources, out / "sources.csv"),
        plot_counts(splits, sources, merged.classes, out / "class_counts.png"),
        plot_intensity(merged, out / "intensity.png"),
        plot_samples(merged, list(manifest["dataset"]), out / "samples.png", seed=seed),
    ]
