"""A variant over its seeds: the mean and spread of its runs' test metrics, and how sure the mean
is, from a bootstrap over the test images and the runs (intervals.py).

One run is one number; the study compares variants by such numbers. Over seeds a variant is its
mean with the standard deviation beside it, and the interval says what the test split's choice
of images and the seeds leave uncertain; with one seed the interval is still there, and the
spread over seeds is simply unknown (sd 0 of n=1, said as such).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expressions.analysis.intervals import (
    bootstrap_interval,
    describe_difference,
    mcnemar,
    mean_sd,
    paired_difference,
)
from expressions.core import paths
from expressions.core.errors import AnalysisError

RESAMPLES = 1000  # bootstrap resamples of the test images: a 95 % interval steady to ~0.1 point
LEVEL = 0.95
BOOTSTRAP_SEED = 0  # the same resamples for every variant: paired comparisons need them
MACRO = ("precision", "recall", "f1", "f1_study")
HEADLINE_DIGITS = 4  # 0.7595: a test set of a few thousand faces does not resolve the fifth digit
HEADLINE_KEYS = {"acc", "acc_sd", "f1", "f1_sd", "seeds"}


def _stat(values: Sequence[float], digits: int = 6) -> tuple[float, float]:
    mean, sd = mean_sd(values)
    return round(mean, digits), round(sd, digits)


def headline(variant: str, runs: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    """metrics/test/<variant>.json, what `dvc metrics` and `dvc exp show` compare: the two numbers
    the study ranks by (accuracy, macro F1), each the mean over seeds with its sd. Short keys under
    the variant's name make every column name unique, so `dvc exp show` heads a column `main.acc`,
    not `metrics/test/main.json:accuracy`; macro P/R and micro scores stay in the tables."""
    accuracy, accuracy_sd = _stat([r["accuracy"] for r in runs.values()], HEADLINE_DIGITS)
    f1, f1_sd = _stat([r["macro"]["f1"] for r in runs.values()], HEADLINE_DIGITS)
    numbers = {"acc": accuracy, "acc_sd": accuracy_sd, "f1": f1, "f1_sd": f1_sd}
    return {variant: numbers | {"seeds": len(runs)}}


def read_headline(path: Path, variant: str) -> dict[str, Any]:
    """The numbers `headline` wrote for `variant`, one sentence where the file has none."""
    if not path.is_file():
        raise AnalysisError(f"{path} not found; run `dvc repro evaluate@{variant}` first")
    numbers = json.loads(path.read_text()).get(variant)
    if not isinstance(numbers, dict) or not set(numbers) >= HEADLINE_KEYS:
        raise AnalysisError(
            f"{path} has no {variant}.acc; it was written by an older version: "
            f"run `dvc repro -f evaluate@{variant}`"
        )
    return numbers


def _mean_tables(tables: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per class and per source dataset: the mean over runs of every number, sd beside recall."""
    per_class = {}
    for name in tables[0]["per_class"]:
        rows = [t["per_class"][name] for t in tables]
        per_class[name] = {k: _stat([r[k] for r in rows])[0] for k in ("precision", "recall", "f1")}
        per_class[name] |= {"recall_sd": _stat([r["recall"] for r in rows])[1]}
        per_class[name] |= {"support": rows[0]["support"]}
    by_source = {}
    for name, first in tables[0].get("by_source", {}).items():
        rows = [t["by_source"][name] for t in tables]
        by_source[name] = {"images": first["images"], "classes": first["classes"]}
        by_source[name] |= {k: _stat([r[k] for r in rows])[0] for k in ("accuracy", "macro_f1")}
    macro = {k: _stat([t["macro"][k] for t in tables])[0] for k in MACRO}
    micro = {k: _stat([t["micro"][k] for t in tables])[0] for k in ("precision", "recall", "f1")}
    return {"per_class": per_class, "by_source": by_source, "macro": macro, "micro": micro}


def read_run(root: Path, variant: str, seed: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """test@<variant>-<seed>'s outputs: its metrics (test.json) and its predictions, a row per
    test image; a missing file is one sentence naming the stage that writes it."""
    metrics = root / paths.run_metrics(variant, seed)
    predictions = root / paths.run_predictions(variant, seed)
    for path in (metrics, predictions):
        if not path.is_file():
            raise AnalysisError(f"{path} not found; run `dvc repro test@{variant}-{seed}` first")
    return json.loads(metrics.read_text()), pd.read_csv(predictions, keep_default_na=False)


def predicted_classes(frames: Sequence[pd.DataFrame], classes: Sequence[str]) -> np.ndarray:
    """[runs, images]: each run's predicted class index, the runs' rows checked to be the same
    test images in the same order."""
    first = frames[0]["index"].to_numpy()
    for frame in frames[1:]:
        if not np.array_equal(frame["index"].to_numpy(), first):
            raise AnalysisError("the runs' predictions cover different test images; re-run them")
    lookup = {c: i for i, c in enumerate(classes)}
    return np.stack([f["predicted"].map(lookup).to_numpy() for f in frames])


def truth(frame: pd.DataFrame, classes: Sequence[str]) -> np.ndarray:
    return frame["actual"].map({c: i for i, c in enumerate(classes)}).to_numpy()


def summarize(
    variant: str,
    runs: Mapping[int, dict[str, Any]],
    frames: Mapping[int, pd.DataFrame],
    classes: Sequence[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(headline, tables) of a variant from its runs' test metrics and predictions, by seed."""
    seeds = list(runs)
    tables = _mean_tables([runs[s] for s in seeds])
    y = truth(frames[seeds[0]], classes)
    predicted = predicted_classes([frames[s] for s in seeds], classes)
    intervals = {
        metric: list(
            bootstrap_interval(y, predicted, metric, len(classes), RESAMPLES, BOOTSTRAP_SEED, LEVEL)
        )
        for metric in ("accuracy", "macro_f1")
    }
    per_run = {
        str(s): {"accuracy": runs[s]["accuracy"], "macro_f1": runs[s]["macro"]["f1"]} for s in seeds
    }
    tables |= {
        "seeds": seeds,
        "runs": per_run,
        "intervals": {k: [round(v, 6) for v in pair] for k, pair in intervals.items()},
        "interval_level": LEVEL,
        "resamples": RESAMPLES,
        "test_images": runs[seeds[0]]["test_images"],
    }
    return headline(variant, runs), tables


def compare(
    name: str,
    reference: str,
    frames: Sequence[pd.DataFrame],
    reference_frames: Sequence[pd.DataFrame],
    classes: Sequence[str],
) -> dict[str, Any]:
    """`name` against `reference` on the same test images: the difference of their means over
    seeds in accuracy and macro F1 with paired bootstrap intervals, said in words, and McNemar's
    test on the disagreements of their first seeds' runs."""
    y = truth(reference_frames[0], classes)
    ours = predicted_classes([*frames, reference_frames[0]], classes)[:-1]  # same images, checked
    theirs = predicted_classes(reference_frames, classes)
    out: dict[str, Any] = {}
    for metric in ("accuracy", "macro_f1"):
        diff = paired_difference(
            y, theirs, ours, metric, len(classes), RESAMPLES, BOOTSTRAP_SEED, LEVEL
        )
        sentence = describe_difference(name, reference, diff.difference, diff.low, diff.high, LEVEL)
        out[metric] = {**diff.as_dict(), "sentence": sentence}
    out["mcnemar"] = mcnemar(theirs[0] == y, ours[0] == y).as_dict()
    return out
