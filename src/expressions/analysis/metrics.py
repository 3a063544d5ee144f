"""The study's tables: per-class precision and recall (Table 1), macro and micro averages (Table 2).

The study's "macro F1" is the harmonic mean of macro precision and macro recall, which is not
the usual macro F1 (the mean of per-class F1s); both are reported, as `f1_study` and `f1`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from expressions.core.errors import AnalysisError

DECIMALS = 6


def harmonic_mean(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def _rounded(**values: float) -> dict[str, float]:
    return {name: round(float(value), DECIMALS) for name, value in values.items()}


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, and 0 where b is 0: scikit-learn's zero_division=0."""
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)


def class_scores(actual: np.ndarray, predicted: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Precision, recall, F1 and support of classes 0..n-1, from the confusion matrix.

    The same numbers as scikit-learn's precision_recall_fscore_support(labels=range(n),
    zero_division=0) (tests/test_metrics.py holds them to it), without importing
    sklearn.metrics: that import alone took 1.7 s of every test stage on a 2-core CPU.
    """
    confusion = np.bincount(actual * n + predicted, minlength=n * n).reshape(n, n)
    hits, support, called = np.diagonal(confusion), confusion.sum(1), confusion.sum(0)
    return _ratio(hits, called), _ratio(hits, support), _ratio(2 * hits, support + called), support


def classification_metrics(
    actual: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    classes: Sequence[str],
) -> dict:
    """The metrics JSON of one model, less `speed`; class indices in, class names as keys out."""
    actual, predicted = np.asarray(actual, np.int64), np.asarray(predicted, np.int64)
    if not len(actual):
        raise AnalysisError("no test images to score: the test split is empty")
    p, r, f, support = class_scores(actual, predicted, len(classes))
    macro_p, macro_r = p.mean(), r.mean()
    accuracy = float((actual == predicted).mean())  # = micro P, R and F1: one label an image
    return {
        "accuracy": round(accuracy, DECIMALS),
        "macro": _rounded(
            precision=macro_p, recall=macro_r, f1=f.mean(), f1_study=harmonic_mean(macro_p, macro_r)
        ),
        "micro": _rounded(precision=accuracy, recall=accuracy, f1=accuracy),
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
    actual, predicted = np.asarray(actual, np.int64), np.asarray(predicted, np.int64)
    sources = np.asarray(sources)
    n = int(max(actual.max(), predicted.max())) + 1 if len(actual) else 0
    out = {}
    for source in sorted(set(sources.tolist())):
        mine = sources == source
        present = np.unique(actual[mine])
        f1 = class_scores(actual[mine], predicted[mine], n)[2][present].mean()
        out[str(source)] = {
            "images": int(mine.sum()),
            "classes": len(present),
            **_rounded(accuracy=(actual[mine] == predicted[mine]).mean(), macro_f1=f1),
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
