"""Intervals for comparing variants: bootstrap, paired differences, McNemar and the sentences."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score

from expressions.analysis import intervals
from expressions.analysis.intervals import (
    bootstrap_interval,
    describe_difference,
    mcnemar,
    mean_sd,
    paired_difference,
    score,
)

K = 4  # the study's four expressions


def noisy(truth: np.ndarray, accuracy: float, seed: int) -> np.ndarray:
    """Predictions that are right on exactly `accuracy` of the images, wrong (another class) else."""
    rng = np.random.default_rng(seed)
    predicted = truth.copy()
    wrong = rng.permutation(len(truth))[: round((1 - accuracy) * len(truth))]
    predicted[wrong] = (truth[wrong] + rng.integers(1, K, len(wrong))) % K
    return predicted


def split(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, K, n)


def table(b: int, c: int, both_right: int = 5, both_wrong: int = 5) -> tuple:
    """Per-image correctness of two classifiers with the given 2x2 table (b: a right, b wrong)."""
    correct_a = [True] * b + [False] * c + [True] * both_right + [False] * both_wrong
    correct_b = [False] * b + [True] * c + [True] * both_right + [False] * both_wrong
    return np.array(correct_a), np.array(correct_b)


# bootstrap_interval


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_a_perfect_classifier_is_sure_of_itself(metric):
    truth = split(300)
    assert bootstrap_interval(truth, truth, metric, K) == (1.0, 1.0)


def test_the_interval_contains_the_point_and_narrows_as_one_over_root_n():
    widths = {}
    for n in (400, 1600):
        truth = split(n)
        predicted = noisy(truth, 0.8, seed=n)
        point = score(truth, predicted, "accuracy", K)
        assert point == pytest.approx(0.8)
        low, high = bootstrap_interval(truth, predicted, "accuracy", K, resamples=4000)
        assert low < point < high
        widths[n] = high - low
        normal = 2 * 1.96 * math.sqrt(0.8 * 0.2 / n)  # 0.0784 at n=400, 0.0392 at n=1600
        assert widths[n] == pytest.approx(normal, rel=0.2)
    assert widths[400] / widths[1600] == pytest.approx(2.0, rel=0.2)


def test_macro_f1_is_sklearns_even_with_a_class_never_seen():
    truth = split(500)
    predicted = noisy(truth, 0.7, seed=1)
    predicted[predicted == 3] = 2  # class 3 never predicted: its F1 is 0, not an error
    expected = f1_score(truth, predicted, average="macro", labels=range(K), zero_division=0)
    assert score(truth, predicted, "macro_f1", K) == pytest.approx(expected, abs=1e-12)
    # A fifth class absent from truth and prediction counts as F1 0, as in sklearn.
    expected5 = f1_score(truth, predicted, average="macro", labels=range(5), zero_division=0)
    assert score(truth, predicted, "macro_f1", 5) == pytest.approx(expected5, abs=1e-12)
    assert expected5 == pytest.approx(expected * K / 5)


def test_the_macro_f1_interval_matches_resampling_image_indices_with_sklearn():
    """Drawing cell counts is the same bootstrap as drawing images; check against the slow way."""
    truth = split(300, seed=3)
    predicted = noisy(truth, 0.75, seed=4)
    indices = np.random.default_rng(9).integers(0, len(truth), (400, len(truth)))
    slow = [
        f1_score(truth[i], predicted[i], average="macro", labels=range(K), zero_division=0)
        for i in indices
    ]
    slow_low, slow_high = np.quantile(slow, [0.025, 0.975])
    low, high = bootstrap_interval(truth, predicted, "macro_f1", K, resamples=4000)
    width = slow_high - slow_low
    assert low == pytest.approx(slow_low, abs=0.15 * width)
    assert high == pytest.approx(slow_high, abs=0.15 * width)


def test_the_seed_fixes_the_interval_and_another_seed_moves_it_a_little():
    truth = split(1000)
    predicted = noisy(truth, 0.8, seed=2)
    first = bootstrap_interval(truth, predicted, "macro_f1", K, seed=7)
    assert bootstrap_interval(truth, predicted, "macro_f1", K, seed=7) == first
    other = bootstrap_interval(truth, predicted, "macro_f1", K, seed=8)
    assert other != first
    assert other == pytest.approx(first, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "f1"}, "Unknown metric"),
        ({"level": 1.0}, "level"),
        ({"resamples": 0}, "resample"),
        ({"n_classes": 3}, "outside 0..2"),
    ],
)
def test_bad_arguments_are_one_sentence(kwargs, message):
    arguments = {"metric": "accuracy", "n_classes": K, **kwargs}
    with pytest.raises(ValueError, match=message):
        bootstrap_interval([0, 1, 3], [0, 1, 2], **arguments)


def test_truth_and_predictions_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([0, 1, 2], [0, 1, 2], [0, 1], "accuracy", K)


# paired_difference


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_identical_predictions_differ_by_exactly_zero(metric):
    truth = split(800)
    predicted = noisy(truth, 0.6, seed=5)
    result = paired_difference(truth, predicted, predicted.copy(), metric, K)
    assert (result.difference, result.low, result.high) == (0.0, 0.0, 0.0)
    assert not result.resolved


def test_the_difference_is_b_minus_a_and_resolved_when_b_is_clearly_better():
    truth = split(1000)
    worse, better = noisy(truth, 0.70, seed=1), noisy(truth, 0.85, seed=2)
    result = paired_difference(truth, worse, better, "accuracy", K)
    assert result.difference == pytest.approx(0.15)
    assert (result.value_a, result.value_b) == (pytest.approx(0.70), pytest.approx(0.85))
    assert 0 < result.low < result.difference < result.high
    assert result.resolved
    flipped = paired_difference(truth, better, worse, "accuracy", K)
    assert flipped.difference == pytest.approx(-0.15)
    assert flipped.high < 0


def test_pairing_cancels_what_both_models_share():
    """b differs from a on 20 of 2000 images: the paired interval is far narrower than a's own."""
    truth = split(2000)
    a = noisy(truth, 0.8, seed=1)
    b = a.copy()
    b[:20] = truth[:20]  # b fixes some of a's errors (and keeps its right answers)
    own_low, own_high = bootstrap_interval(truth, a, "accuracy", K)
    result = paired_difference(truth, a, b, "accuracy", K)
    assert result.high - result.low < 0.25 * (own_high - own_low)
    assert result.low >= 0  # b is never worse than a on any image


def test_the_result_is_plain_json():
    truth = split(200)
    result = paired_difference(truth, noisy(truth, 0.7, 1), noisy(truth, 0.8, 2), "macro_f1", K)
    decoded = json.loads(json.dumps(result.as_dict()))
    assert decoded["difference"] == result.difference
    assert decoded["resolved"] == result.resolved
    assert decoded["metric"] == "macro_f1"


# mcnemar


def test_mcnemar_chi_square_matches_the_textbook_example():
    # Wikipedia's "McNemar's test" example: b = 121, c = 59 discordant pairs (uncorrected
    # statistic (121 - 59)^2 / 180 = 21.35). With the continuity correction:
    # (|121 - 59| - 1)^2 / (121 + 59) = 61^2 / 180 = 3721 / 180 = 20.6722...
    # For 1 degree of freedom the chi-square tail is erfc(sqrt(x / 2)).
    result = mcnemar(*table(121, 59, both_right=101, both_wrong=33))
    assert (result.b, result.c) == (121, 59)
    assert result.test == "chi-square, continuity-corrected"
    assert result.statistic == pytest.approx(3721 / 180)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(3721 / 180 / 2)))
    assert result.p_value < 1e-5


def test_mcnemar_exact_branch_below_25_discordant_pairs():
    # b = 11, c = 3: two-sided exact p = 2 * P(X <= 3 | 14, 1/2)
    # = 2 * (1 + 14 + 91 + 364) / 2^14 = 940 / 16384 = 0.057373046875.
    result = mcnemar(*table(11, 3))
    assert (result.b, result.c) == (11, 3)
    assert result.test == "exact binomial"
    assert result.statistic == 3
    assert result.p_value == pytest.approx(940 / 16384)
    assert result.p_value == pytest.approx(stats.binomtest(3, 14, 0.5).pvalue)


def test_mcnemar_counts_b_as_a_right_and_b_wrong():
    result = mcnemar(*table(2, 8))
    assert (result.b, result.c) == (2, 8)
    assert result.p_value == pytest.approx(2 * (1 + 10 + 45) / 1024)  # 0.109375


def test_mcnemar_switches_to_chi_square_at_25_discordant_pairs():
    assert mcnemar(*table(20, 4)).test == "exact binomial"  # 24
    at_25 = mcnemar(*table(20, 5))
    assert at_25.test == "chi-square, continuity-corrected"
    assert at_25.statistic == pytest.approx(14**2 / 25)


def test_mcnemar_without_disagreement_has_p_one():
    result = mcnemar([True, False, True], [True, False, True])
    assert (result.b, result.c, result.p_value) == (0, 0, 1.0)
    assert json.loads(json.dumps(result.as_dict()))["p_value"] == 1.0


# describe_difference and mean_sd


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (
            ("variant2", "main", 0.020, -0.006, 0.046),
            "variant2 - main: +2.0 points [-0.6, +4.6], not resolved at 95 %",
        ),
        (
            ("tuned", "main", 0.160, 0.131, 0.189),
            "tuned - main: +16.0 points [+13.1, +18.9], resolved at 95 %",
        ),
        (
            ("small", "main", -0.052, -0.081, -0.024),
            "small - main: -5.2 points [-8.1, -2.4], resolved at 95 %",
        ),
        (
            ("gray", "main", -0.010, -0.031, 0.012),
            "gray - main: -1.0 points [-3.1, +1.2], not resolved at 95 %",
        ),
        (
            ("copy", "main", 0.0, 0.0, 0.0),
            "copy - main: +0.0 points [+0.0, +0.0], not resolved at 95 %",
        ),
        (
            ("near", "main", -0.0001, -0.0004, 0.0002),
            "near - main: +0.0 points [+0.0, +0.0], not resolved at 95 %",
        ),
    ],
)
def test_describe_difference_sentences(args, sentence):
    assert describe_difference(*args) == sentence


def test_describe_difference_names_another_level():
    assert describe_difference("b", "a", 0.01, 0.002, 0.02, level=0.9).endswith("resolved at 90 %")


def test_mean_sd_over_seeds():
    mean, sd = mean_sd([0.80, 0.82, 0.84])
    assert mean == pytest.approx(0.82)
    assert sd == pytest.approx(0.02)  # ddof=1: sqrt((0.02^2 + 0 + 0.02^2) / 2)
    assert mean_sd([0.75]) == (0.75, 0.0)
    with pytest.raises(ValueError):
        mean_sd([])


def test_over_seeds_the_interval_is_the_means_and_pairing_cancels_what_runs_share():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, 600)
    runs = np.stack([np.where(rng.random(600) < p, truth, (truth + 1) % 3) for p in (0.7, 0.8)])
    low, high = intervals.bootstrap_interval(truth, runs, "accuracy", 3)
    mean = float(np.mean([(run == truth).mean() for run in runs]))
    assert low < mean < high
    single = intervals.bootstrap_interval(truth, runs[0], "accuracy", 3)
    assert single != (low, high)  # one run is not the mean of two
    same = intervals.paired_difference(truth, runs, runs[::-1].copy(), "accuracy", 3)
    assert same.difference == 0 and same.low < 0 < same.high  # the same runs, seeds swapped
    identical = intervals.paired_difference(truth, runs, runs.copy(), "accuracy", 3)
    assert identical.difference == 0 and identical.low == identical.high == 0
    diff = intervals.paired_difference(truth, runs[:1], runs, "accuracy", 3)
    assert diff.difference == pytest.approx(mean - (runs[0] == truth).mean())
    assert diff.low <= diff.difference <= diff.high


def _runs_at(truth: np.ndarray, accuracies: list[float], seed: int) -> np.ndarray:
    """A run per accuracy: right where a uniform draw falls below it, else the next class."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [np.where(rng.random(len(truth)) < p, truth, (truth + 1) % 3) for p in accuracies]
    )


def test_a_gap_inside_the_spread_over_seeds_is_not_resolved_and_one_beyond_it_is():
    truth = np.random.default_rng(0).integers(0, 3, 3000)
    main = _runs_at(truth, [0.72, 0.72, 0.72], 1)
    noisy = _runs_at(truth, [0.62, 0.80, 0.82], 2)  # +2.7 on the mean, but -10 with seed 0
    steady = _runs_at(truth, [0.76, 0.77, 0.78], 3)  # +5 points on every seed
    lucky = intervals.paired_difference(truth, main, noisy, "accuracy", 3)
    assert lucky.difference > 0.02 and not lucky.resolved
    images_only = intervals.paired_difference(truth, main[0], noisy[1], "accuracy", 3)
    assert images_only.resolved  # one run of each hides the seed spread
    better = intervals.paired_difference(truth, main, steady, "accuracy", 3)
    assert better.resolved and better.low > 0.03
