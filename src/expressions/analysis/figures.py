"""The one figure style of the project: a fixed colour per class, fixed sizes, atomic PNG saves.

Every figure goes through here so that "Happy" is the same orange in the data plots, the confusion
matrix, the error gallery and the feature maps, and so that a PNG's pixel size depends only on its
layout (fixed figure size and dpi, no tight bounding box), which tests and `dvc plots diff` rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # headless: stages run on servers and in CI

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from expressions.core.atomic import atomic_path

DPI = 100
FONT_SIZE = 11
TITLE_SIZE = 14
SMALL_SIZE = 9

# Okabe-Ito colours (readable with the common colour-vision deficiencies), one per study class.
CLASS_COLORS: dict[str, str] = {
    "Angry": "#D55E00",  # vermillion
    "Engaged": "#0072B2",  # blue
    "Happy": "#E69F00",  # orange
    "Neutral": "#7F7F7F",  # grey
}
# Used in order for classes the study does not have (a user's own folder dataset).
EXTRA_COLORS: tuple[str, ...] = (
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#8C564B",
    "#F0E442",
    "#000000",
    "#9467BD",
    "#17BECF",
)

plt.rcParams.update(
    {
        "font.size": FONT_SIZE,
        "axes.titlesize": FONT_SIZE + 1,
        "axes.labelsize": FONT_SIZE,
        "figure.titlesize": TITLE_SIZE,
        "legend.fontsize": SMALL_SIZE + 1,
        "xtick.labelsize": SMALL_SIZE + 1,
        "ytick.labelsize": SMALL_SIZE + 1,
        "savefig.dpi": DPI,
        "figure.dpi": DPI,
        "image.cmap": "gray",
    }
)


def class_colors(classes: Sequence[str]) -> dict[str, str]:
    """A colour for each class: the study's classes keep theirs, others get unused ones in order.

    The mapping depends only on the class names and their order, so every figure of a run agrees.
    """
    taken = {CLASS_COLORS[c] for c in classes if c in CLASS_COLORS}
    spare = iter([c for c in EXTRA_COLORS if c not in taken])
    out: dict[str, str] = {}
    for name in classes:
        out[name] = CLASS_COLORS.get(name) or next(spare, "#333333")
    return out


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure of exactly width_in x height_in inches at DPI; constrained layout keeps the size."""
    return plt.figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")


def pixel_size(width_in: float, height_in: float) -> tuple[int, int]:
    """The (width, height) in pixels that save_png writes for a figure of that size."""
    return round(width_in * DPI), round(height_in * DPI)


def save_png(fig: Figure, path: Path | str) -> Path:
    """Write `fig` as PNG via a temporary name (a killed stage leaves no half file) and close it."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return path


def show_image(
    ax: Axes,
    image: np.ndarray,
    *,
    title: str = "",
    color: str | None = None,
    cmap: str = "gray",
    raw: bool = True,
) -> None:
    """Draw an image without ticks; an optional coloured frame marks its class.

    `raw` shows uint8 pixels on the fixed 0-255 scale (so dark faces look dark); otherwise the
    colour scale stretches to the image's own range, as activations need.
    """
    limits = {"vmin": 0, "vmax": 255} if raw else {}
    ax.imshow(image, cmap=cmap, interpolation="nearest", **limits)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=SMALL_SIZE, color=color or "black")
    for spine in ax.spines.values():
        spine.set_visible(color is not None)
        if color is not None:
            spine.set_edgecolor(color)
            spine.set_linewidth(3)


def no_data(fig: Figure, message: str) -> None:
    """Say in the figure itself why it is empty, rather than writing a blank image."""
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=FONT_SIZE + 1)
