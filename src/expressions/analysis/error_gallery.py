"""On which faces a variant is wrong, and how sure it was: the most confident mistakes."""

from __future__ import annotations

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
from expressions.data.dataset import Merged


def errors_size(n: int, cols: int) -> tuple[float, float]:
    """Figure size in inches of the error gallery: 1.6 x 2.0 in per image plus a title."""
    rows = max(1, -(-n // cols))
    return 1.6 * cols + 0.4, 2.0 * rows + 0.7


def most_confident_errors(predictions: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` misclassified images the model was surest about (ties: lower index first)."""
    wrong = predictions[predictions["actual"] != predictions["predicted"]]
    return wrong.sort_values(["confidence", "index"], ascending=[False, True]).head(n)


def plot_errors(
    predictions: pd.DataFrame,
    merged: Merged,
    path: Path | str,
    *,
    title: str,
    n: int = 16,
    cols: int = 8,
) -> Path:
    """Gallery of the most confident mistakes; frame and "true" line in the true class's colour."""
    fig = new_figure(*errors_size(n, cols))
    errors = most_confident_errors(predictions, n)
    colors = class_colors(merged.classes)
    axes = np.asarray(fig.subplots(max(1, -(-n // cols)), cols, squeeze=False)).reshape(-1)
    for ax in axes[len(errors) :]:
        ax.set_axis_off()
    for ax, row in zip(axes, errors.to_dict("records"), strict=False):
        true, pred = row["actual"], row["predicted"]
        show_image(ax, merged.x[int(row["index"])], color=colors[true])
        sure = f"pred {pred}\n{row['confidence'] * 100:.0f}% sure"
        ax.set_title(sure, color=colors[pred], fontsize=SMALL_SIZE + 1)
        ax.set_xlabel(f"true {true}", color=colors[true], fontsize=SMALL_SIZE + 1)
    wrong = int((predictions["actual"] != predictions["predicted"]).sum())
    if errors.empty:
        fig.suptitle(f"{title}: no misclassified test images")
        no_data(fig, "No misclassified test images")
    else:
        fig.suptitle(
            f"{title}: the {len(errors)} most confident of {wrong} misclassified test images"
        )
    return save_png(fig, path)
