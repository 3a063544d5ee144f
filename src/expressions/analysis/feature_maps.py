"""What each conv block responds to: the strongest channels for one test face per class."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from expressions.analysis.figures import (
    SMALL_SIZE,
    class_colors,
    new_figure,
    no_data,
    save_png,
    show_image,
)
from expressions.core.errors import AnalysisError
from expressions.data.dataset import SPLITS, Merged

if TYPE_CHECKING:
    from torch import nn


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


def feature_maps(model: nn.Module, images: np.ndarray) -> list[np.ndarray]:
    """Every conv block's activations for `images`, as float arrays [B, C, h, w], block by block.

    A block's `act` layer (the activation before pooling, twice the pooled side) is hooked when
    the block names one, as the project's model does; otherwise the block's own output.
    """
    import torch  # here, not at the top: the analyze stage checks its inputs before torch loads

    from expressions.training.batches import as_input

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
            model(as_input(torch.from_numpy(np.ascontiguousarray(images))))
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
    """One row per image: the input, then each block's `top` most active channels (no maps: the
    inputs alone, titled so)."""
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
    if not maps:  # an ImageNet backbone (model.arch) has no study conv blocks: the inputs only
        fig.suptitle(f"{title}: feature maps are drawn for the study CNN only (model.arch study)")
    else:
        fig.suptitle(
            f"{title}: the {top} most active channels of each conv block (bright = strong)"
        )
    return save_png(fig, path)
