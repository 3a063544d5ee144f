"""The study's tables: per-class precision and recall (Table 1), macro and micro averages (Table 2).

The study's "macro F1" is the harmonic mean of macro precision and macro recall, which is not
the usual macro F1 (the mean of per-class F1s); both are reported, as `f1_study` and `f1`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

DECIMALS = 6


def harmonic_mean(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def _rounded(**values: float) -> dict[str, float]:
    return {name: round(float(value), DECIMALS) for name, value in values.items()}


def _scores(actual: np.ndarray, predicted: np.ndarray, n: int, average: str | None) -> tuple:
    """Precision, recall, F1 and support; zero (not an exception) where a class is never predicted."""
    labels = list(range(n))
    return precision_recall_fscore_support(
        actual, predicted, labels=labels, average=average, zero_division=0
    )


def classification_metrics(
    actual: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    classes: Sequence[str],
) -> dict:
    """The metrics JSON of one model, less `speed`; class indices in, class names as keys out."""
    actual, predicted = np.asarray(actual), np.asarray(predicted)
    macro_p, macro_r, macro_f, _ = _scores(actual, predicted, len(classes), "macro")
    micro_p, micro_r, micro_f, _ = _scores(actual, predicted, len(classes), "micro")
    p, r, f, support = _scores(actual, predicted, len(classes), None)
    return {
        "accuracy": round(float(accuracy_score(actual, predicted)), DECIMALS),
        "macro": _rounded(
            precision=macro_p, recall=macro_r, f1=macro_f, f1_study=harmonic_mean(macro_p, macro_r)
        ),
        "micro": _rounded(precision=micro_p, recall=micro_r, f1=micro_f),
        "per_class": {
            name: {**_rounded(precision=p[i], recall=r[i], f1=f[i]), "support": int(support[i])}
            for i, name in enumerate(classes)
        },
        "test_images": len(actual),
    }


def by_source(
    actual: np.ndarray, predicted: np.ndarray, sources: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Accuracy and macro F1 on each source dataset's share of a split.

    A merged score hides how each dataset fares, and a dataset usually holds only some of the
    classes (Engaged comes from one dataset only), so each dataset's macro F1 averages over the
    classes it has: a class it never shows would count as a zero F1 it cannot earn.
    """
    actual, predicted, sources = map(np.asarray, (actual, predicted, sources))
    out = {}
    for source in sorted(set(sources.tolist())):
        mine = sources == source
        present = np.unique(actual[mine])
        _, _, f1, _ = precision_recall_fscore_support(
            actual[mine], predicted[mine], labels=present, average="macro", zero_division=0
        )
        out[str(source)] = {
            "images": int(mine.sum()),
            "classes": len(present),
            **_rounded(accuracy=accuracy_score(actual[mine], predicted[mine]), macro_f1=f1),
        }
    return out


def format_tables(metrics: dict) -> str:
    """Tables 1 and 2 of the study as plain text, for the stage's log."""
    lines = [f"{'class':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for name, m in metrics["per_class"].items():
        lines.append(
            f"{name:<12}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>9}"
        )
    for kind in ("macro", "micro"):
        m = metrics[kind]
        lines.append(f"{kind:<12}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}")
    lines.append(
        f"study's macro F1 (harmonic mean of macro P and R): {metrics['macro']['f1_study']:.4f}"
    )
    return "\n".join(lines)
