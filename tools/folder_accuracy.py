"""Score `expressions predict --csv` rows of a labelled folder (`<root>/<label>/<file>`, as
FER2013's test split ships): accuracy and per-class recall, the label being each file's folder.

    expressions predict fer2013/test --detector none --csv rows.csv
    python tools/folder_accuracy.py rows.csv
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path


def score(rows: list[dict[str, str]]) -> tuple[float, dict[str, float], int]:
    """Accuracy over the rows with a prediction, recall per class, and how many had none."""
    judged = [r for r in rows if r["predicted"]]
    truth = [Path(r["source"]).parent.name.lower() for r in judged]
    right = [t == r["predicted"].lower() for t, r in zip(truth, judged, strict=True)]
    totals, hits = Counter(truth), Counter(t for t, ok in zip(truth, right, strict=True) if ok)
    recall = {c: hits[c] / n for c, n in sorted(totals.items())}
    return (sum(right) / len(right) if right else 0.0), recall, len(rows) - len(judged)


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python tools/folder_accuracy.py rows.csv")
    with open(argv[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    accuracy, recall, missing = score(rows)
    print(f"accuracy {accuracy:.4f} on {len(rows) - missing:,} faces ({missing} rows without one)")
    print("recall: " + ", ".join(f"{c} {r:.2f}" for c, r in recall.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
