"""How sure a comparison of variants is: bootstrap intervals, paired differences and McNemar.

Every variant is scored on the same test split, so a difference between two of them is only
worth reporting with the uncertainty that comes from which images happened to be in that split.
The bootstrap answers that by resampling the test images with replacement.

Two choices hold throughout:

- Macro F1 is sklearn's: the mean of per-class F1 over `range(n_classes)`, with a class that has
  no true and no predicted image in a (re)sample counting as F1 0, exactly as
  `f1_score(average="macro", labels=range(n_classes), zero_division=0)` does.
- A resample is drawn as how many times each test image is taken (Multinomial(n, 1/n) weights,
  the same bootstrap as drawing n indices with replacement), and every confusion matrix of the
  resamples is one matrix product of those weights with the images' (truth, prediction) cells.
- A variant trained with several seeds is scored by its mean over the seeds, and the bootstrap
  has two levels: each resample draws the test images (the same draw for every variant, so a
  paired difference cancels what the images share) and as many of the variant's runs, with
  replacement, so the interval also holds how much another set of seeds would move the mean.
  Two variants with as many runs draw the same seeds (run i of each shares its seed, hence its
  data order and augmentation draws: the seeds are paired as the images are); otherwise each
  draws its own. With one run per variant only the images are resampled. With 3 seeds the seed
  level is coarse: it tells a difference inside the seed noise from one beyond it, no more.

Only numpy and scipy: no torch, so the report can use this wherever it runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

METRICS = ("accuracy", "macro_f1")
EXACT_BELOW = 25  # McNemar: the exact binomial test when fewer discordant pairs than this

ArrayLike = Sequence[int] | Sequence[bool] | np.ndarray


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """Variant b against variant a on the same images; `difference` is b - a on the full set."""

    metric: str
    value_a: float
    value_b: float
    difference: float
    low: float
    high: float
    level: float
    resamples: int
    seed: int

    @property
    def resolved(self) -> bool:
        """Whether the interval excludes 0, i.e. the sign of the difference is settled."""
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "resolved": self.resolved}


@dataclasses.dataclass(frozen=True)
class McNemarResult:
    """The discordant pairs of two classifiers on the same images and the test on them.

    `b`: images a got right and b got wrong; `c`: a wrong, b right. `test` is "exact binomial"
    (statistic = min(b, c), the binomial count) or "chi-square, continuity-corrected"
    (statistic = (|b - c| - 1)^2 / (b + c), 1 degree of freedom).
    """

    b: int
    c: int
    statistic: float
    p_value: float
    test: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _labels(values: ArrayLike, n_classes: int, what: str) -> np.ndarray:
    """Class indices as an int array, refused when out of range (a wrong n_classes, say)."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D sequence of class indices.")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{what} must hold integer class indices, not {array.dtype}.")
    if array.min() < 0 or array.max() >= n_classes:
        raise ValueError(f"{what} holds a class index outside 0..{n_classes - 1}.")
    return array.astype(np.int64)


def _check(metric: str, *lengths: int) -> None:
    """Refuse an unknown metric, or truth and predictions that do not describe the same images."""
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}: use one of {', '.join(METRICS)}.")
    if len(set(lengths)) != 1:
        raise ValueError(f"Truth and predictions differ in length: {', '.join(map(str, lengths))}.")


def _from_confusion(confusion: np.ndarray, metric: str) -> np.ndarray:
    """The metric of each confusion matrix in a stack [..., truth, prediction].

    Per-class F1 is 2 TP / (2 TP + FP + FN), the same number as 2PR / (P + R), with 0 where the
    denominator is 0 (class neither present nor predicted): sklearn's zero_division=0.
    """
    confusion = confusion.astype(np.float64)
    true_positive = np.diagonal(confusion, axis1=-2, axis2=-1)
    if metric == "accuracy":
        return true_positive.sum(axis=-1) / confusion.sum(axis=(-2, -1))
    denominator = confusion.sum(axis=-1) + confusion.sum(axis=-2)  # 2 TP + FN + FP
    safe = np.where(denominator > 0, denominator, 1.0)
    f1 = np.where(denominator > 0, 2 * true_positive / safe, 0.0)
    return f1.mean(axis=-1)


def _image_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """[resamples, n]: how many times each image is drawn in each bootstrap resample."""
    if resamples < 1:
        raise ValueError(f"At least one resample is needed, not {resamples}.")
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)


def _runs(values: ArrayLike, n_classes: int, what: str) -> np.ndarray:
    """Predictions as [runs, images]: one model's 1-D predictions are one run."""
    array = np.asarray(values)
    rows = array[None] if array.ndim == 1 else array
    if rows.ndim != 2:
        raise ValueError(f"{what} must be 1-D (one run) or 2-D (a run per seed).")
    return np.stack([_labels(row, n_classes, what) for row in rows])


def _run_picks(runs: int, resamples: int, seed: int, stream: int) -> np.ndarray:
    """[runs, resamples]: which of a variant's runs each resample takes, drawn with replacement;
    `stream` keeps two variants' draws independent of each other and of the images'."""
    rng = np.random.default_rng([seed, stream])
    return rng.integers(0, runs, size=(runs, resamples))


def _resampled(
    truth: np.ndarray, runs: np.ndarray, metric: str, k: int, weights: np.ndarray, picks: np.ndarray
) -> np.ndarray:
    """[resamples]: the metric of each resample, averaged over the runs `picks` draws for it."""
    values = []
    for predicted in runs:
        cells = np.zeros((len(truth), k * k))
        cells[np.arange(len(truth)), truth * k + predicted] = 1.0
        confusion = (weights @ cells).reshape(len(weights), k, k)
        values.append(_from_confusion(confusion, metric))
    return np.take_along_axis(np.stack(values), picks, axis=0).mean(axis=0)


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval: the middle `level` of the bootstrap distribution."""
    if not 0 < level < 1:
        raise ValueError(f"The level must lie strictly between 0 and 1, not {level}.")
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def score(y_true: ArrayLike, y_pred: ArrayLike, metric: str, n_classes: int) -> float:
    """The metric on the full set, computed the same way as every resample is."""
    _check(metric, len(y_true), len(y_pred))
    truth = _labels(y_true, n_classes, "y_true")
    predicted = _labels(y_pred, n_classes, "y_pred")
    cells = np.bincount(truth * n_classes + predicted, minlength=n_classes**2)
    return float(_from_confusion(cells.reshape(n_classes, n_classes), metric))


def bootstrap_interval(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    metric: str,
    n_classes: int,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval (low, high) of a variant's metric on this test split;
    `y_pred` is one run's predictions, or [seeds, images] for the mean over seeds.

    It says how much the number would move had the split held other images from the same
    source (and, over seeds, had the runs been others); the same seed gives the same interval.
    """
    truth = _labels(y_true, n_classes, "y_true")
    runs = _runs(y_pred, n_classes, "y_pred")
    _check(metric, len(truth), runs.shape[1])
    weights = _image_weights(len(truth), resamples, seed)
    picks = _run_picks(len(runs), resamples, seed, 1)
    return _percentiles(_resampled(truth, runs, metric, n_classes, weights, picks), level)


def paired_difference(
    y_true: ArrayLike,
    pred_a: ArrayLike,
    pred_b: ArrayLike,
    metric: str,
    n_classes: int,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedDifference:
    """The difference b - a and its paired bootstrap interval; each of `pred_a`, `pred_b` is one
    run's predictions or [seeds, images], compared by their means over seeds.

    Both variants are scored on the same resampled images in each resample, so what the images
    share (an easy or a hard draw) cancels and only their disagreement is left: the interval is
    far narrower than two separate intervals would suggest. The runs are redrawn too (the same
    seeds for both when they have as many), so a gap that changes sign from seed to seed stays
    unresolved. Identical predictions give exactly 0 in every resample, hence [0, 0].
    """
    truth = _labels(y_true, n_classes, "y_true")
    a, b = _runs(pred_a, n_classes, "pred_a"), _runs(pred_b, n_classes, "pred_b")
    _check(metric, len(truth), a.shape[1], b.shape[1])
    weights = _image_weights(len(truth), resamples, seed)
    picks_a = _run_picks(len(a), resamples, seed, 1)
    picks_b = picks_a if len(a) == len(b) else _run_picks(len(b), resamples, seed, 2)
    values_a = _resampled(truth, a, metric, n_classes, weights, picks_a)
    values_b = _resampled(truth, b, metric, n_classes, weights, picks_b)
    low, high = _percentiles(values_b - values_a, level)
    value_a = float(np.mean([score(truth, run, metric, n_classes) for run in a]))
    value_b = float(np.mean([score(truth, run, metric, n_classes) for run in b]))
    return PairedDifference(
        metric=metric,
        value_a=value_a,
        value_b=value_b,
        difference=value_b - value_a,
        low=low,
        high=high,
        level=level,
        resamples=resamples,
        seed=seed,
    )


def mcnemar(correct_a: ArrayLike, correct_b: ArrayLike) -> McNemarResult:
    """McNemar's test of whether two classifiers' error rates differ on the same images.

    Only the images on which they disagree count. With fewer than 25 of them the chi-square
    approximation is poor, so the exact two-sided binomial test on min(b, c) of b + c is used;
    from 25 on, the chi-square with continuity correction. No disagreement at all: p = 1.
    """
    from scipy import stats  # a second to import: only the report's comparisons need it

    a = np.asarray(correct_a, dtype=bool)
    b_right = np.asarray(correct_b, dtype=bool)
    if a.shape != b_right.shape or a.ndim != 1:
        raise ValueError("correct_a and correct_b must be 1-D and of the same length.")
    b = int(np.sum(a & ~b_right))
    c = int(np.sum(~a & b_right))
    discordant = b + c
    if discordant == 0:
        return McNemarResult(b=0, c=0, statistic=0.0, p_value=1.0, test="exact binomial")
    if discordant < EXACT_BELOW:
        smaller = min(b, c)
        p_value = stats.binomtest(smaller, discordant, 0.5).pvalue
        return McNemarResult(b, c, float(smaller), float(p_value), "exact binomial")
    statistic = (abs(b - c) - 1) ** 2 / discordant
    p_value = stats.chi2.sf(statistic, df=1)
    return McNemarResult(b, c, float(statistic), float(p_value), "chi-square, continuity-corrected")


def _points(proportion: float) -> str:
    """A proportion as signed percentage points, one decimal; never "-0.0"."""
    return f"{round(100 * proportion, 1) + 0.0:+.1f}"


def describe_difference(
    name_b: str, name_a: str, diff: float, low: float, high: float, level: float = 0.95
) -> str:
    """The report's sentence, e.g. "tuned - main: +16.0 points [+13.1, +18.9], resolved at 95 %".

    Inputs are proportions (0.02 is 2 points). "Resolved" means the interval excludes 0, judged
    on the unrounded bounds.
    """
    resolved = "resolved" if low > 0 or high < 0 else "not resolved"
    percent = f"{round(100 * level, 6):g}"
    return (
        f"{name_b} - {name_a}: {_points(diff)} points [{_points(low)}, {_points(high)}], "
        f"{resolved} at {percent} %"
    )


def mean_sd(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) over seeds; the SD of one value is 0.0."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError("mean_sd needs a non-empty 1-D sequence of numbers.")
    sd = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return float(array.mean()), sd
