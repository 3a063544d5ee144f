"""Which classes a variant mixes up: confusion counts, row rates, the worst pairs, the figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from expressions.analysis.figures import class_colors, new_figure, save_png


def confusion_counts(
    actual: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> np.ndarray:
    """Counts[i, j] = test images of class i predicted as class j."""
    pos = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for a, p in zip(actual, predicted, strict=True):
        counts[pos[a], pos[p]] += 1
    return counts


def row_rates(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total (recall on the diagonal); rows with no images stay 0."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def confused_pairs(counts: np.ndarray, classes: Sequence[str], top: int = 5) -> pd.DataFrame:
    """The `top` (true, predicted) pairs with the most mistakes; share = of the true class."""
    rates = row_rates(counts)
    rows = [
        {
            "actual": classes[i],
            "predicted": classes[j],
            "count": int(counts[i, j]),
            "share": round(float(rates[i, j]), 4),
        }
        for i in range(len(classes))
        for j in range(len(classes))
        if i != j and counts[i, j] > 0
    ]
    rows.sort(key=lambda r: (-r["count"], -r["share"], r["actual"], r["predicted"]))
    return pd.DataFrame(rows[:top], columns=["actual", "predicted", "count", "share"])


def confusion_size(n_classes: int) -> tuple[float, float]:
    """Figure size in inches of the confusion matrix: 1.4 in per class plus labels."""
    return 1.4 * n_classes + 3.2, 1.4 * n_classes + 1.8


def plot_confusion(
    counts: np.ndarray, classes: Sequence[str], path: Path | str, *, title: str
) -> Path:
    """Each cell shows its count and its share of the true class; colour = that share."""
    rates = row_rates(counts)
    fig = new_figure(*confusion_size(len(classes)))
    ax = fig.subplots()
    image = ax.imshow(rates * 100, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(classes)):
        for j in range(len(classes)):
            color = "white" if rates[i, j] > 0.55 else "black"
            text = f"{counts[i, j]}\n{rates[i, j] * 100:.1f}%"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=12)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes)
    ax.set_yticks(ticks, classes)
    colors = class_colors(classes)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_color(colors[label.get_text()])
        label.set_fontweight("bold")
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_title(f"{title}\n(cell: count and share of the true class; n={int(counts.sum())})")
    fig.colorbar(image, ax=ax, label="Share of the true class (%)", shrink=0.8)
    return save_png(fig, path)
