"""What a trained variant gets wrong and what it looks at: confusion matrix, errors, feature maps.

The metrics JSON says how often a variant is right; these outputs show where it is wrong (which
classes it mixes up, on which faces, how sure it was) and what each conv block responds to, so two
variants can be compared by eye with `dvc plots diff`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from expressions.atomic import write_text
from expressions.figures import (
    SMALL_SIZE,
    class_colors,
    new_figure,
    no_data,
    save_png,
    show_image,
)
from expressions.merged import SPLITS, Merged

if TYPE_CHECKING:
    import torch
    from torch import nn

PREDICTION_COLUMNS = ("index", "actual", "predicted", "confidence")


class AnalysisError(ValueError):
    """Inputs that cannot be analysed, as one sentence for the user."""


def read_predictions(path: Path | str, merged: Merged) -> pd.DataFrame:
    """predictions.csv, checked against the dataset: known classes, indices that are test rows."""
    path = Path(path)
    if not path.exists():
        raise AnalysisError(f"{path} not found; run the evaluate stage for this variant first")
    frame = pd.read_csv(path, keep_default_na=False)  # a class may be called "NA"
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise AnalysisError(f"{path} lacks column(s) {', '.join(missing)}")
    unknown = sorted(set(frame["actual"]).union(frame["predicted"]) - set(merged.classes))
    if unknown:
        raise AnalysisError(f"{path} names class {unknown[0]!r}, not one of {list(merged.classes)}")
    index = frame["index"].to_numpy()
    if len(index) and (index.min() < 0 or index.max() >= len(merged.y)):
        raise AnalysisError(f"{path} has an index outside the {len(merged.y)} dataset rows")
    return frame


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


def pick_per_class(merged: Merged, seed: int) -> list[int]:
    """One seeded test-image row per class (classes without test images are skipped)."""
    rng = np.random.default_rng(seed)
    test = merged.split == SPLITS.index("test")
    picks = []
    for c in range(len(merged.classes)):
        rows = np.flatnonzero(test & (merged.y == c))
        if len(rows):
            picks.append(int(rng.choice(rows)))
    return picks


def model_input(model: nn.Module, images: np.ndarray) -> torch.Tensor:
    """uint8 [B, S, S] -> the batch the model expects: pixels / 255 as [B, 1, S, S] floats.

    model.py's network standardises that itself with its training statistics; a model that
    offers its own `normalize(uint8 batch)` gets the raw pixels instead.
    """
    import torch

    batch = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)
    normalize = getattr(model, "normalize", None)
    return normalize(batch) if callable(normalize) else batch.float() / 255.0


def feature_maps(model: nn.Module, images: np.ndarray) -> list[np.ndarray]:
    """Every conv block's activations for `images`, as float arrays [B, C, h, w], block by block.

    A block's `act` layer (the activation before pooling, twice the pooled side) is hooked when
    the block names one, as the project's model does; otherwise the block's own output.
    """
    import torch

    blocks = getattr(model, "blocks", None)
    if blocks is None or len(blocks) == 0:
        raise AnalysisError("the model exposes no conv blocks (model.blocks) to take maps from")
    maps: list[np.ndarray] = []
    hooks = [
        getattr(block, "act", block).register_forward_hook(
            lambda _m, _i, out: maps.append(out.detach().float().cpu().numpy())
        )
        for block in blocks
    ]
    try:
        model.eval()
        with torch.no_grad():
            model(model_input(model, images))
    finally:
        for hook in hooks:
            hook.remove()
    return maps


def strongest_channels(maps: np.ndarray, top: int) -> np.ndarray:
    """For each image, the `top` channels with the largest mean activation, strongest first."""
    means = maps.reshape(maps.shape[0], maps.shape[1], -1).mean(axis=2)
    return np.argsort(-means, axis=1, kind="stable")[:, :top]


def maps_size(n_images: int, n_blocks: int, top: int) -> tuple[float, float]:
    """Figure size in inches of the feature-map grid: 1.1 in per cell plus row labels."""
    return 1.1 * (1 + n_blocks * top) + 1.6, 1.35 * n_images + 0.8


def plot_feature_maps(
    images: np.ndarray,
    labels: Sequence[str],
    captions: Sequence[str],
    maps: list[np.ndarray],
    classes: Sequence[str],
    path: Path | str,
    *,
    title: str,
    top: int = 4,
) -> Path:
    """One row per image: the input, then each block's `top` most active channels."""
    n, top = len(images), min([top, *(m.shape[1] for m in maps)])
    fig = new_figure(*maps_size(max(n, 1), len(maps), top))
    axes = np.asarray(fig.subplots(max(n, 1), 1 + len(maps) * top, squeeze=False))
    colors = class_colors(classes)
    for r in range(n):
        show_image(axes[r, 0], images[r], color=colors[labels[r]])
        axes[r, 0].set_ylabel(
            f"true {labels[r]}\n{captions[r]}",
            color=colors[labels[r]],
            fontsize=SMALL_SIZE + 1,
            rotation=0,
            ha="right",
            va="center",
        )
        for b, block in enumerate(maps):
            for k, ch in enumerate(strongest_channels(block, top)[r]):
                ax = axes[r, 1 + b * top + k]
                show_image(ax, block[r, ch], cmap="magma", raw=False)
                ax.set_title(f"block {b + 1} · ch {ch}", fontsize=SMALL_SIZE - 1)
    axes[0, 0].set_title("input", fontsize=SMALL_SIZE)
    if n == 0:
        no_data(fig, "No test images to show")
    fig.suptitle(f"{title}: the {top} most active channels of each conv block (bright = strong)")
    return save_png(fig, path)


def analyze(
    variant: str,
    model: nn.Module,
    merged: Merged,
    predictions: pd.DataFrame,
    out_dir: Path | str,
    *,
    seed: int = 0,
) -> list[Path]:
    """confusion.png, confused_pairs.csv, errors.png and feature_maps.png for one variant."""
    out = Path(out_dir)
    counts = confusion_counts(predictions["actual"], predictions["predicted"], merged.classes)
    pairs = confused_pairs(counts, merged.classes)
    write_text(out / "confused_pairs.csv", pairs.to_csv(index=False))
    rows = pick_per_class(merged, seed)
    by_index = predictions.set_index("index")
    captions = [
        f"pred {by_index.at[r, 'predicted']} {by_index.at[r, 'confidence'] * 100:.0f}%"
        if r in by_index.index
        else f"test row {r}"
        for r in rows
    ]
    labels = [merged.classes[merged.y[r]] for r in rows]
    maps = feature_maps(model, merged.x[rows])
    return [
        plot_confusion(
            counts,
            merged.classes,
            out / "confusion.png",
            title=f"{variant}: confusion matrix on the test set",
        ),
        out / "confused_pairs.csv",
        plot_errors(predictions, merged, out / "errors.png", title=variant),
        plot_feature_maps(
            merged.x[rows],
            labels,
            captions,
            maps,
            merged.classes,
            out / "feature_maps.png",
            title=f"{variant}, seed {seed}",
        ),
    ]
