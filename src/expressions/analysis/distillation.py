"""How a student compares with its teacher on the same test faces: each one's accuracy and
macro F1 with its bootstrap interval, the paired difference (student - teacher) with its
interval, and how often the two predict the same class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from expressions.analysis.intervals import bootstrap_interval, describe_difference
from expressions.analysis.intervals import paired_difference as paired
from expressions.analysis.metrics import classification_metrics


def _scored(y: np.ndarray, predicted: np.ndarray, classes: Sequence[str]) -> dict:
    metrics = classification_metrics(y, predicted, classes)
    n = len(classes)
    return {
        "accuracy": metrics["accuracy"],
        "accuracy_interval": [round(v, 4) for v in bootstrap_interval(y, predicted, "accuracy", n)],
        "macro_f1": metrics["macro"]["f1"],
        "recall": {c: m["recall"] for c, m in metrics["per_class"].items()},
    }


def student_against_teacher(
    y: np.ndarray, student: np.ndarray, teacher: np.ndarray, classes: Sequence[str]
) -> dict:
    """`student`, `teacher`: probabilities [N, C] on the test faces `y` (class indices)."""
    s, t = student.argmax(1), teacher.argmax(1)
    difference = paired(y, t, s, "accuracy", len(classes))
    return {
        "student": _scored(y, s, classes),
        "teacher": _scored(y, t, classes),
        "agreement": round(float((s == t).mean()), 4) if len(y) else 0.0,
        "difference": describe_difference(
            "student", "teacher", difference.difference, difference.low, difference.high
        ),
        "test_images": len(y),
    }
