"""The study's tables as Markdown: the layout of Table 1 and Table 2 and the rest of report.md.

report.py gathers the numbers from the stages' outputs into one dict (also written as
report.json); this module only lays that dict out, so the two can change independently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from expressions.training.epoch_log import EPOCH_LINE

TABLE2 = (  # key in report.json, column header in report.md, path in the tables (accuracy: headline)
    ("accuracy", "Accuracy", ("accuracy",)),
    ("macro_precision", "Macro P", ("macro", "precision")),
    ("macro_recall", "Macro R", ("macro", "recall")),
    ("macro_f1_study", "Macro F1 (study)¹", ("macro", "f1_study")),
    ("macro_f1_sklearn", "Macro F1 (sklearn)²", ("macro", "f1")),
    ("micro_precision", "Micro P", ("micro", "precision")),
    ("micro_recall", "Micro R", ("micro", "recall")),
    ("micro_f1", "Micro F1", ("micro", "f1")),
)
SPREAD = {"accuracy": "accuracy_sd", "macro_f1_sklearn": "macro_f1_sd"}  # shown as mean +- sd
INTERVALS = {"accuracy": "accuracy", "macro_f1_sklearn": "macro_f1"}  # and their intervals
DATA_PLOTS = {"class counts": "class_counts.png", "intensity": "intensity.png",
              "samples": "samples.png"}  # fmt: skip
VARIANT_PLOTS = {"confusion matrix": "confusion.png", "most confident errors": "errors.png",
                 "feature maps": "feature_maps.png"}  # fmt: skip


def epoch_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The study's log lines: `Epoch [k/N], Validation Loss: x.xxxx, Validation Accuracy: yy.yy%`."""
    return [
        EPOCH_LINE.format(
            epoch=r["epoch"],
            epochs=r["epochs"],
            val_loss=r["val_loss"],
            val_acc=r["val_acc"],
        )
        for r in rows
    ]


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


def mean_sd(value: float, sd: float, seeds: int) -> str:
    """'0.7672 +- 0.0123' over several seeds; one run's number alone, as the study's is."""
    return f"{value:.4f} ± {sd:.4f}" if seeds > 1 else f"{value:.4f}"


def interval(pair: Sequence[float] | None) -> str:
    return "n/a" if not pair else f"[{pair[0]:.4f}, {pair[1]:.4f}]"


def _table2(report: dict[str, Any]) -> list[str]:
    """Table 2: one row per variant, each score the mean over its seeds; accuracy and macro F1
    with their sd over seeds and bootstrap 95 % interval; both macro-F1 definitions, footnoted."""
    extra = {"test_images": "Test images", "kept_epoch": "Kept epoch"}
    header = ["Variant", "Seeds"]
    for key, head, _ in TABLE2:
        header += [head, "95 % interval"] if key in INTERVALS else [head]
    header += list(extra.values())
    rows = []
    for v in report["variants"]:
        t2, n = report["table2"][v], report["table2"][v]["seeds"]
        row: list[Any] = [v, n]
        for key, _, _ in TABLE2:
            if key in INTERVALS:
                row += [
                    mean_sd(t2[key], t2[SPREAD[key]], n),
                    interval(t2["intervals"].get(INTERVALS[key])),
                ]
            else:
                row.append(t2[key])
        row += [t2.get(k) for k in extra]
        rows.append(row)
    seeds = {report["table2"][v]["seeds"] for v in report["variants"]}
    how = (
        "Each number is one run (one seed), as the study reports it: the interval says how much "
        "the test split's choice of images leaves open, and how much another seed would move it is "
        "unmeasured (`dvc exp run -S 'train.seeds=[0,1,2]'` measures it)."
        if seeds == {1}
        else "Each number is the mean over the variant's seeds (± the standard deviation over "
        "seeds); the interval is the bootstrap's for that mean, over the test images and the "
        "runs (each resample draws both), so it holds the seed-to-seed spread too."
    )
    return [
        "## Table 2. Overall metrics (test set)",
        "",
        *md_table(header, rows),
        "",
        how + " Intervals: 95 %, 1,000 bootstrap resamples of the test images.  ",
        "¹ the study's macro F1: harmonic mean of macro precision and macro recall.  ",
        "² scikit-learn's macro F1: mean of the per-class F1 scores.",
    ]


def _differences(report: dict[str, Any]) -> list[str]:
    """Each variant against the reference, in words: resolved or not at 95 %."""
    comparisons = report.get("comparisons") or {}
    if not comparisons:
        return []
    reference = report["reference"]
    out = [f"## Differences against {reference} (test set)", ""]
    for c in comparisons.values():
        test = c["mcnemar"]
        out.append(
            f"- {c['accuracy']['sentence']} (accuracy); {c['macro_f1']['sentence']} (macro F1); "
            f"McNemar on the first seeds' {test['b'] + test['c']} disagreements: p = "
            f"{test['p_value']:.3g} ({test['test']})."
        )
    return [
        *out,
        "",
        "A difference is resolved when its paired bootstrap 95 % interval excludes 0 (each "
        "resample draws the same test images for both variants and, over seeds, the same seeds); "
        "otherwise the test split and the seeds cannot tell the two apart.",
    ]


ONE_CLASS = "one class"


def _by_source(report: dict[str, Any]) -> list[str]:
    """Table 2 per source dataset: a merged score can hide a dataset the model fails on."""
    scores = report.get("by_source", {})
    datasets = sorted({d for v in report["variants"] for d in scores.get(v, {})})
    if not datasets:
        return []
    header = ["Variant"] + [f"{d} {k}" for d in datasets for k in ("Accuracy", "Macro F1³")]

    def cell(variant: str, dataset: str, key: str) -> Any:
        score = scores[variant].get(dataset, {})
        if key == "macro_f1" and score.get("classes") == 1:
            return ONE_CLASS  # the macro F1 of one class is no comparison: accuracy is its recall
        return score.get(key)

    rows = [
        [v] + [cell(v, d, k) for d in datasets for k in ("accuracy", "macro_f1")]
        for v in report["variants"]
    ]
    first = scores[report["variants"][0]]
    share = ", ".join(
        f"{d} {first[d]['images']} images of {first[d]['classes']} "
        f"class{'es' if first[d]['classes'] != 1 else ''}"
        for d in datasets
        if d in first
    )
    return [
        "## Table 2 by source dataset (test set)",
        "",
        *md_table(header, rows),
        "",
        f"Test split: {share}.  ",
        "³ macro F1 over the classes that dataset has (scikit-learn's definition); "
        f"{ONE_CLASS}: the dataset's test split has one class, whose recall is its accuracy.",
    ]


def _sources(report: dict[str, Any]) -> list[str]:
    """Which dataset each class comes from; a class from one dataset alone is named."""
    sources = report["data"].get("sources", {})
    if not sources:
        return []
    datasets = sorted({d for counts in sources.values() for d in counts})
    rows = [[c] + [sources[c].get(d, 0) for d in datasets] for c in sources]
    out = ["", "Where each class comes from (images kept, all splits):", ""]
    out += md_table(["Class", *datasets], rows)
    for cls, counts in sources.items():
        only = [d for d, n in counts.items() if n > 0]
        if len(only) == 1 and len(datasets) > 1:
            out += ["", f"{cls} comes from {only[0]} only: its scores are that dataset's too."]
    return out


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
    out += _sources(report)
    for warning in report["data"].get("warnings", []):
        out += ["", f"**Warning:** {warning}: its per-class scores on that split are undefined."]
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
        "Written by `dvc repro report` from metrics/test/<variant>.json, metrics/tables/,",
        "metrics/runs/ (every run's predictions), dvclive/, plots/<variant>/confusion.csv and",
        "metrics/data.json. Scores are fractions of 1; tables show the first seed's runs where",
        "one run is drawn (validation lines, confused pairs, plots).",
    ]
    sections = [intro, _table1(report), _table2(report), _differences(report)]
    sections += [_by_source(report), _validation(report)]
    sections = [s for s in sections if s]
    sections += [_data(report), _pairs(report), _plots(report, prefix)]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"
