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
from expressions.atomic import write_json, write_text
from expressions.errors import AnalysisError

EPOCH_LINE = (
    "Epoch [{epoch}/{epochs}], Validation Loss: {val_loss:.4f}, Validation Accuracy: {acc:.2f}%"
)
TABLE2 = (  # key in report.json, column header in report.md, path in metrics/<variant>.json
    ("accuracy", "Accuracy", ("accuracy",)),
    ("macro_precision", "Macro P", ("macro", "precision")),
    ("macro_recall", "Macro R", ("macro", "recall")),
    ("macro_f1_study", "Macro F1 (study)¹", ("macro", "f1_study")),
    ("macro_f1_sklearn", "Macro F1 (sklearn)²", ("macro", "f1")),
    ("micro_precision", "Micro P", ("micro", "precision")),
    ("micro_recall", "Micro R", ("micro", "recall")),
    ("micro_f1", "Micro F1", ("micro", "f1")),
)
DATA_PLOTS = {"class counts": "class_counts.png", "intensity": "intensity.png",
              "samples": "samples.png"}  # fmt: skip
VARIANT_PLOTS = {"confusion matrix": "confusion.png", "most confident errors": "errors.png",
                 "feature maps": "feature_maps.png"}  # fmt: skip


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


def as_percent(values: pd.Series) -> pd.Series:
    """Accuracy in %: dvclive logs whatever the trainer gave; fractions (all <= 1) are scaled.

    A 4-class model at or below 1% accuracy is not a realistic run, so the rule is unambiguous.
    """
    return values * 100 if len(values) and values.max() <= 1.0 else values


def epochs(dvclive_dir: Path) -> list[dict[str, Any]]:
    """Per-epoch rows from the TSVs, in step order; epoch k of N counts logged validation rows."""
    base = dvclive_dir / "plots" / "metrics"
    loss = read_curve(base / "val_loss.tsv", "val_loss")
    acc = as_percent(read_curve(base / "val_acc.tsv", "val_acc"))
    train_path = base / "train_loss.tsv"
    train = read_curve(train_path, "train_loss") if train_path.exists() else pd.Series(dtype=float)
    steps = sorted(set(loss.index) & set(acc.index))
    rows = []
    for k, step in enumerate(steps, start=1):
        row = {"epoch": k, "epochs": len(steps), "step": int(step)}
        row |= {"val_loss": float(loss[step]), "val_acc_percent": float(acc[step])}
        row["train_loss"] = float(train[step]) if step in train.index else None
        rows.append(row)
    return rows


def epoch_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The study's log lines: `Epoch [k/N], Validation Loss: x.xxxx, Validation Accuracy: yy.yy%`."""
    return [
        EPOCH_LINE.format(
            epoch=r["epoch"], epochs=r["epochs"], val_loss=r["val_loss"], acc=r["val_acc_percent"]
        )
        for r in rows
    ]


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


def variant_section(root: Path, variant: str) -> dict[str, Any]:
    """Everything the report shows about one variant, read from that variant's stage outputs."""
    path = root / "metrics" / f"{variant}.json"
    metrics = _read_json(path, f"evaluate@{variant}")
    per_class = metrics.get("per_class")
    if not isinstance(per_class, dict) or not per_class:
        raise AnalysisError(f"{path} has no per_class metrics")
    classes = list(per_class)
    table1 = {
        c: {k: _dig(per_class, (c, k), path) for k in ("precision", "recall", "f1")}
        | {"support": int(_dig(per_class, (c, "support"), path))}
        for c in classes
    }
    table2 = {key: _dig(metrics, keys, path) for key, _, keys in TABLE2}
    table2["test_images"] = int(
        metrics.get("test_images", sum(v["support"] for v in table1.values()))
    )
    speed = metrics.get("speed", {})
    table2["images_per_s"] = float(speed["images_per_s"]) if "images_per_s" in speed else None
    return {
        "classes": classes,
        "table1": table1,
        "table2": table2,
        "validation": epochs(root / "dvclive" / variant),
        "confused_pairs": read_pairs(root / "plots" / variant / "confusion.csv", classes),
        "plots": {k: f"plots/{variant}/{v}" for k, v in VARIANT_PLOTS.items()},
    }


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


def build_report(root: Path | str, variants: Sequence[str]) -> dict[str, Any]:
    """The whole report as one JSON-ready dict (written as report.json, rendered as report.md)."""
    root = Path(root)
    if not variants:
        raise AnalysisError("name at least one variant to report on")
    sections = {v: variant_section(root, v) for v in variants}
    data = _read_json(root / "metrics" / "data.json", "merge")
    return {
        "variants": list(variants),
        "classes": sections[variants[0]]["classes"],
        "table1": {v: s["table1"] for v, s in sections.items()},
        "table2": {v: s["table2"] for v, s in sections.items()},
        "validation": {v: s["validation"] for v, s in sections.items()},
        "data": {
            "classes": data_counts(data),
            "details": {k: v for k, v in data.items() if k != "classes"},
        },
        "confused_pairs": {v: s["confused_pairs"] for v, s in sections.items()},
        "plots": {"data": {k: f"plots/data/{v}" for k, v in DATA_PLOTS.items()}}
        | {v: s["plots"] for v, s in sections.items()},
    }


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub markdown table; numbers right-aligned, the first column left-aligned."""
    align = [":--"] + ["--:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    return lines + ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]


def generic_tables(obj: Any, title: str, level: int = 4) -> list[str]:
    """Render any nested dict as markdown: scalars as key/value, dicts of scalars as a matrix.

    metrics/data.json's shape belongs to the merge stage; this shows whatever it holds.
    """
    if not isinstance(obj, dict):
        return [f"{'#' * level} {title}", "", f"`{json.dumps(obj)}`", ""]
    scalars = {k: v for k, v in obj.items() if not isinstance(v, dict | list)}
    nested = {k: v for k, v in obj.items() if isinstance(v, dict | list)}
    out = [f"{'#' * min(level, 6)} {title}", ""] if title else []
    flat = [v for v in nested.values() if isinstance(v, dict)]
    if (
        nested
        and len(flat) == len(nested)
        and all(not isinstance(x, dict | list) for d in flat for x in d.values())
    ):
        cols = list(dict.fromkeys(k for d in flat for k in d))
        rows = [[k, *(nested[k].get(c, "") for c in cols)] for k in nested]
        return [*out, *md_table(["", *cols], rows), "", *_scalars(scalars)]
    out += _scalars(scalars)
    for key, value in nested.items():
        out += generic_tables(value, f"{title} / {key}" if title else str(key), level + 1)
    return out


def _scalars(scalars: dict[str, Any]) -> list[str]:
    return [*md_table(["key", "value"], list(scalars.items())), ""] if scalars else []


def _table1(report: dict[str, Any]) -> list[str]:
    """Table 1: one row per class, a precision and a recall column per variant."""
    variants, kinds = report["variants"], ("precision", "recall")
    header = ["Class"] + [f"{v} {k.capitalize()}" for v in variants for k in kinds]
    rows = [
        [c] + [report["table1"][v].get(c, {}).get(k) for v in variants for k in kinds]
        for c in report["classes"]
    ]
    return ["## Table 1. Precision and recall per class (test set)", "", *md_table(header, rows)]


def _table2(report: dict[str, Any]) -> list[str]:
    """Table 2: one row per variant; both macro-F1 definitions, footnoted."""
    header = ["Variant"] + [h for _, h, _ in TABLE2] + ["Test images", "Images/s"]
    keys = [k for k, _, _ in TABLE2] + ["test_images", "images_per_s"]
    rows = [[v] + [report["table2"][v][k] for k in keys] for v in report["variants"]]
    for row in rows:  # throughput: whole images per second are precise enough
        row[-1] = _fmt(row[-1], digits=0)
    return [
        "## Table 2. Overall metrics (test set)",
        "",
        *md_table(header, rows),
        "",
        "¹ the study's macro F1: harmonic mean of macro precision and macro recall.  ",
        "² scikit-learn's macro F1: mean of the per-class F1 scores.",
    ]


def _validation(report: dict[str, Any]) -> list[str]:
    out = ["## Validation per epoch", ""]
    for v in report["variants"]:
        out += [f"{v}:", "", "```", *epoch_lines(report["validation"][v]), "```", ""]
    return out[:-1]


def _data(report: dict[str, Any]) -> list[str]:
    """Images per class and split with totals, then whatever else the merge stage counted."""
    counts = report["data"]["classes"]
    out = ["## Data: images per class and split", ""]
    if not counts:
        out.append("(metrics/data.json has no `classes` table)")
    else:
        splits = list(dict.fromkeys(k for d in counts.values() for k in d))
        rows = [[c] + [counts[c].get(s, 0) for s in splits] for c in counts]
        rows.append(["Total"] + [sum(counts[c].get(s, 0) for c in counts) for s in splits])
        out += md_table(["Class", *splits], rows)
    if report["data"]["details"]:
        out += ["", "<details><summary>All counts in metrics/data.json</summary>", ""]
        out += [*generic_tables(report["data"]["details"], ""), "</details>"]
    return out


def _pairs(report: dict[str, Any]) -> list[str]:
    head = ["True class", "Predicted as", "Images", "Share of true class"]
    out = ["## Most confused class pairs (test set)", ""]
    for v in report["variants"]:
        rows = [
            [p["actual"], p["predicted"], p["count"], f"{p['share'] * 100:.1f}%"]
            for p in report["confused_pairs"][v]
        ]
        out += [f"{v}:", "", *(md_table(head, rows) if rows else ["(no errors)"]), ""]
    return out[:-1]


def _plots(report: dict[str, Any], prefix: str) -> list[str]:
    """Links relative to the report's folder, so they work on GitHub and in a local checkout."""

    def links(plots: dict[str, str]) -> str:
        return ", ".join(f"[{name}]({prefix}{path})" for name, path in plots.items())

    return [
        "## Plots",
        "",
        "Training curves and confusion matrices of all variants: `dvc plots show`, or",
        "`dvc plots diff <rev>` to compare with another commit or experiment.",
        "",
        f"- data: {links(report['plots']['data'])}",
        *(f"- {v}: {links(report['plots'][v])}" for v in report["variants"]),
    ]


def render_markdown(report: dict[str, Any], prefix: str = "../") -> str:
    """report.md in the study's order; `prefix` leads from the report's folder to the root."""
    intro = [
        f"# Results: {', '.join(report['variants'])}",
        "",
        "Written by `dvc repro report` from metrics/<variant>.json, dvclive/<variant>/,",
        "plots/<variant>/confusion.csv and metrics/data.json. Scores are fractions of 1.",
    ]
    sections = [intro, _table1(report), _table2(report), _validation(report)]
    sections += [_data(report), _pairs(report), _plots(report, prefix)]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def write_report(root: Path | str, variants: Sequence[str], md: Path, js: Path) -> dict[str, Any]:
    """Build the report from `root` and write report.json and report.md atomically."""
    report = build_report(root, variants)
    prefix = Path(os.path.relpath(Path(root).resolve(), Path(md).resolve().parent)).as_posix()
    write_json(js, report)
    write_text(md, render_markdown(report, "" if prefix == "." else prefix + "/"))
    return report
