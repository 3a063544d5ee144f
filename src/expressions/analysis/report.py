"""The study's tables, rebuilt from the pipeline's outputs, as metrics/report.md and report.json.

The markdown follows the study's layout (Table 1: per-class precision and recall; Table 2: overall
metrics; the per-epoch validation lines in the study's own log format) so a reader can lay it beside
the paper; the JSON holds the same numbers for scripts and `dvc metrics`. Nothing is recomputed
from predictions except the confused pairs: every number comes from a file another stage wrote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from expressions.analysis.confusion import confused_pairs, confusion_counts
from expressions.analysis.report_markdown import (
    DATA_PLOTS,
    TABLE2,
    VARIANT_PLOTS,
    render_markdown,
)
from expressions.analysis.seeds import compare, read_headline, read_run
from expressions.config.model import first_seed
from expressions.core import paths
from expressions.core.atomic import write_json, write_text
from expressions.core.errors import AnalysisError


def _read_json(path: Path, stage: str) -> dict[str, Any]:
    if not path.exists():
        raise AnalysisError(f"{path} not found; run `dvc repro {stage}` first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise AnalysisError(f"{path} is not valid JSON ({err.msg} at line {err.lineno})") from None


def _dig(metrics: dict[str, Any], keys: Sequence[str], where: Path) -> float:
    value: Any = metrics
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise AnalysisError(f"{where} has no {'.'.join(keys)}")
        value = value[key]
    return float(value)


def read_curve(path: Path, column: str) -> pd.Series:
    """One dvclive TSV as a series indexed by step (dvclive may add a timestamp column)."""
    if not path.exists():
        raise AnalysisError(f"{path} not found; run the train stage first")
    frame = pd.read_csv(path, sep="\t")
    if "step" not in frame.columns or column not in frame.columns:
        raise AnalysisError(f"{path} needs columns step and {column}")
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        raise AnalysisError(f"{path} has a {column} value that is not a number")
    frame = frame.assign(**{column: values.astype(float)})
    return frame.drop_duplicates("step", keep="last").set_index("step")[column]


def as_fraction(values: pd.Series) -> pd.Series:
    """Accuracy as a fraction of 1; runs logged before the project's one unit stored percents.

    A 4-class model at or below 1% accuracy is not a realistic run, so the rule is unambiguous.
    """
    return values / 100 if len(values) and values.max() > 1.0 else values


def epochs(dvclive_dir: Path) -> list[dict[str, Any]]:
    """Per-epoch rows from the TSVs, in step order; epoch k of N counts logged validation rows."""
    base = dvclive_dir / "plots" / "metrics"
    loss = read_curve(base / "val_loss.tsv", "val_loss")
    acc = as_fraction(read_curve(base / "val_acc.tsv", "val_acc"))
    train_path = base / "train_loss.tsv"
    train = read_curve(train_path, "train_loss") if train_path.exists() else pd.Series(dtype=float)
    steps = sorted(set(loss.index) & set(acc.index))
    rows = []
    for k, step in enumerate(steps, start=1):
        row = {"epoch": k, "epochs": len(steps), "step": int(step)}
        row |= {"val_loss": float(loss[step]), "val_acc": float(acc[step])}
        row["train_loss"] = float(train[step]) if step in train.index else None
        rows.append(row)
    return rows


def data_counts(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    """metrics/data.json's `classes` table ({class: {split: n}}), with a total added if missing."""
    classes = data.get("classes")
    if not isinstance(classes, dict):
        return {}
    out = {}
    for name, splits in classes.items():
        if isinstance(splits, dict):
            counts = {k: int(v) for k, v in splits.items() if not isinstance(v, dict | list)}
            counts.setdefault("total", sum(counts.values()))
            out[name] = counts
    return out


def variant_section(root: Path, variant: str, seed: int) -> dict[str, Any]:
    """Everything the report shows about one variant, read from that variant's stage outputs;
    `seed`: the run whose validation lines and confusions are shown (the first of train.seeds)."""
    path, tables = root / paths.test_metrics(variant), root / paths.tables(variant)
    metrics = read_headline(path, variant)
    details = _read_json(tables, f"evaluate@{variant}")
    per_class = details.get("per_class")
    if not isinstance(per_class, dict) or not per_class:
        raise AnalysisError(f"{tables} has no per_class metrics")
    classes = list(per_class)
    table1 = {
        c: {k: _dig(per_class, (c, k), tables) for k in ("precision", "recall", "f1")}
        | {"support": int(_dig(per_class, (c, "support"), tables))}
        for c in classes
    }
    both = {**details, "accuracy": metrics["acc"]}
    table2: dict[str, Any] = {key: _dig(both, keys, tables) for key, _, keys in TABLE2}
    table2 |= {
        "accuracy_sd": metrics["acc_sd"],
        "macro_f1_sd": metrics["f1_sd"],
        "seeds": int(metrics["seeds"]),
        "intervals": details.get("intervals", {}),
        "runs": details.get("runs", {}),
        "test_images": int(details.get("test_images", sum(v["support"] for v in table1.values()))),
    }
    training = root / paths.training_log(variant, seed)
    run = _read_json(training, f"train@{variant}-{seed}") if training.exists() else {}
    table2["kept_epoch"] = run.get("kept_epoch")
    return {
        "classes": classes,
        "table1": table1,
        "table2": table2,
        "by_source": details.get("by_source", {}),
        "validation": epochs(root / paths.live(variant, seed)),
        "confused_pairs": read_pairs(root / paths.PLOTS / variant / "confusion.csv", classes),
        "plots": {k: f"plots/{variant}/{v}" for k, v in VARIANT_PLOTS.items()},
    }


def run_frames(root: Path, variant: str, seeds: Sequence[int]) -> list[pd.DataFrame]:
    """Each run's test predictions, in the order of `seeds`."""
    return [read_run(root, variant, seed)[1] for seed in seeds]


def comparisons(
    root: Path, variants: Sequence[str], seeds: Sequence[int], classes: Sequence[str]
) -> dict[str, Any]:
    """Every variant against the first one (the study's main), on the same test images."""
    reference, *others = variants
    theirs = run_frames(root, reference, seeds)
    return {v: compare(v, reference, run_frames(root, v, seeds), theirs, classes) for v in others}


def read_pairs(path: Path, classes: Sequence[str]) -> list[dict[str, Any]]:
    """The most confused (true, predicted) pairs, counted from evaluate's confusion.csv."""
    if not path.exists():
        raise AnalysisError(f"{path} not found; run the evaluate stage first")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"actual", "predicted"} <= set(frame.columns):
        raise AnalysisError(f"{path} needs columns actual and predicted")
    unknown = sorted(set(frame["actual"]).union(frame["predicted"]) - set(classes))
    if unknown:
        raise AnalysisError(f"{path} names class {unknown[0]!r}, which the metrics do not have")
    counts = confusion_counts(frame["actual"], frame["predicted"], classes)
    return confused_pairs(counts, classes).to_dict("records")


def build_report(
    root: Path | str, variants: Sequence[str], seeds: Sequence[int] = (0,)
) -> dict[str, Any]:
    """The whole report as one JSON-ready dict (written as report.json, rendered as report.md);
    `seeds`: train.seeds, the first one's runs shown where one run is drawn."""
    root = Path(root)
    if not variants:
        raise AnalysisError("name at least one variant to report on")
    sections = {v: variant_section(root, v, first_seed(seeds)) for v in variants}
    data = _read_json(root / paths.DATA_TOTALS, "merge")
    classes = sections[variants[0]]["classes"]
    return {
        "variants": list(variants),
        "seeds": list(seeds),
        "reference": variants[0],
        "comparisons": comparisons(root, variants, seeds, classes),
        "classes": classes,
        "table1": {v: s["table1"] for v, s in sections.items()},
        "table2": {v: s["table2"] for v, s in sections.items()},
        "by_source": {v: s["by_source"] for v, s in sections.items()},
        "validation": {v: s["validation"] for v, s in sections.items()},
        "data": {
            "classes": data_counts(data),
            "warnings": list(data.get("warnings", [])),
            "sources": data.get("sources", {}),
            "details": {
                k: v for k, v in data.items() if k not in ("classes", "warnings", "sources")
            },
        },
        "confused_pairs": {v: s["confused_pairs"] for v, s in sections.items()},
        "plots": {"data": {k: f"plots/data/{v}" for k, v in DATA_PLOTS.items()}}
        | {v: s["plots"] for v, s in sections.items()},
    }


def write_report(
    root: Path | str, variants: Sequence[str], md: Path, js: Path, seeds: Sequence[int] = (0,)
) -> dict[str, Any]:
    """Build the report from `root` and write report.json and report.md atomically."""
    report = build_report(root, variants, seeds)
    prefix = Path(os.path.relpath(Path(root).resolve(), Path(md).resolve().parent)).as_posix()
    write_json(js, report)
    write_text(md, render_markdown(report, "" if prefix == "." else prefix + "/"))
    return report
