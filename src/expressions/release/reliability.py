"""The reliability diagram of a calibration: accuracy against confidence, before and after."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from expressions.core.atomic import atomic_path
from expressions.release.calibration import ece, reliability


def reliability_diagram(
    before: np.ndarray, after: np.ndarray, labels: np.ndarray, temperature: float, target: Path
) -> None:
    """Accuracy against confidence per bin, before and after scaling; the diagonal is perfect."""
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfectly calibrated")
    for proba, name in ((before, "before"), (after, f"after (T = {temperature:.2f})")):
        t = reliability(proba, labels)
        points = [
            (c, a) for c, a in zip(t["confidence"], t["accuracy"], strict=True) if c is not None
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=f"{name}: ECE {ece(proba, labels):.3f}")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Confidence", ylabel="Accuracy")
    ax.set_title("Reliability on the validation split")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
