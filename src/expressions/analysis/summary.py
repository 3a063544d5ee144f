"""What `make repro` prints at its end: each variant's headline in a table that fits an 80-column
terminal (metrics/report.md holds every table), and the source datasets a merged score can hide.

    python -m expressions.analysis.summary [metrics/report.json]
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from expressions.core import paths

WIDTH = 80  # a terminal's columns


def _pm(value: float, sd: float, seeds: int) -> str:
    return f"{value:.3f} ± {sd:.3f}" if seeds > 1 else f"{value:.3f}"


def variant_lines(report: dict[str, Any]) -> list[str]:
    head = f"{'variant':<12}{'seeds':>5}  {'accuracy':<15}{'95 % interval':<16}{'macro F1':<15}"
    lines = [head, "-" * len(head)]
    for name in report["variants"]:
        t = report["table2"][name]
        n = t["seeds"]
        low, high = t["intervals"].get("accuracy", [float("nan")] * 2)
        lines.append(
            f"{name:<12}{n:>5}  {_pm(t['accuracy'], t['accuracy_sd'], n):<15}"
            f"{f'[{low:.3f}, {high:.3f}]':<16}{_pm(t['macro_f1_sklearn'], t['macro_f1_sd'], n):<15}"
        )
    return lines


def source_lines(report: dict[str, Any]) -> list[str]:
    """Accuracy per source dataset, for the first variant; a one-class split named as such."""
    first = report["variants"][0]
    scores = report.get("by_source", {}).get(first, {})
    if len(scores) < 2:
        return []
    parts = []
    for dataset, s in sorted(scores.items()):
        one = " (one class: accuracy is its recall)" if s.get("classes") == 1 else ""
        parts.append(f"{dataset} {s['accuracy']:.3f}{one}")
    return [f"{first} by source dataset (accuracy): " + "; ".join(parts)]


def summary(report: dict[str, Any]) -> str:
    lines = [
        "Test set, each variant (macro F1: scikit-learn's; ± sd over seeds):",
        "",
        *variant_lines(report),
        "",
        *source_lines(report),
        f"All tables: {paths.REPORT_MD}; headline metrics: {paths.TEST_METRICS}/<variant>.json "
        "(dvc metrics show); figures: plots/ (dvc plots show)",
    ]
    wrapped = [w for line in lines for w in (textwrap.wrap(line, WIDTH) or [""])]
    return "\n".join(line.rstrip() for line in wrapped)


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else paths.REPORT_JSON
    if not path.exists():
        raise SystemExit(f"error: {path} not found; `dvc repro report` writes it")
    print(summary(json.loads(path.read_text())))


if __name__ == "__main__":
    main(sys.argv[1:])
