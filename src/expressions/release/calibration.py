"""Temperature scaling: probabilities that mean what they say, fitted on the validation split.

A network trained with cross-entropy is usually over-confident. Dividing its logits by one
temperature T > 0, chosen to minimise the validation negative log-likelihood, fixes most of
that without changing any prediction (argmax is unchanged). Expected calibration error (ECE)
and a reliability diagram (reliability.py) show the before and after. NumPy only: the serving
side, which may run without torch or matplotlib, shares `softmax`.
"""

from __future__ import annotations

import numpy as np

BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """The model's output contract (its card, its ONNX metadata): softmax(logits / temperature)."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


def tempered(logits: list[np.ndarray], temperature: float) -> np.ndarray:
    """Probabilities at `temperature`; several logit sets (the image, its mirror) are averaged."""
    return np.mean([softmax(z, temperature) for z in logits], axis=0)


def nll(proba: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(proba[np.arange(len(labels)), labels], 1e-12, 1)).mean())


def fit_temperature(logits: list[np.ndarray], labels: np.ndarray) -> float:
    """The T in [0.05, 20] minimising validation NLL: a log-spaced grid, then a finer one."""
    lo, hi = np.log(0.05), np.log(20.0)
    for _ in range(3):
        grid = np.linspace(lo, hi, 41)
        losses = [nll(tempered(logits, float(np.exp(t))), labels) for t in grid]
        best = int(np.argmin(losses))
        step = grid[1] - grid[0]
        lo, hi = grid[best] - step, grid[best] + step
    return round(float(np.exp(grid[best])), 4)


def reliability(proba: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, list]:
    """Per confidence bin: mean confidence, accuracy and count (equal-width bins over [0, 1])."""
    confidence = proba.max(1)
    correct = proba.argmax(1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    out: dict[str, list] = {"confidence": [], "accuracy": [], "count": []}
    for b in range(bins):
        mask = which == b
        out["count"].append(int(mask.sum()))
        out["confidence"].append(float(confidence[mask].mean()) if mask.any() else None)
        out["accuracy"].append(float(correct[mask].mean()) if mask.any() else None)
    return out


def ece(proba: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: |accuracy - confidence| per bin, weighted by the bin's share."""
    table = reliability(proba, labels, bins)
    total = sum(table["count"])
    return float(
        sum(
            n / total * abs(a - c)
            for n, a, c in zip(table["count"], table["accuracy"], table["confidence"], strict=True)
            if n
        )
    )
