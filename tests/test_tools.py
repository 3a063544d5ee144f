"""The tools a user runs on real data, on small inputs written here (as subprocesses, as a user
runs them): scoring predict's rows of a labelled folder."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_folder_accuracy_scores_rows_by_their_folder_and_counts_rows_without_a_face(tmp_path):
    rows = tmp_path / "rows.csv"
    with open(rows, "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["source", "predicted", "note"])
        writer.writeheader()
        writer.writerow({"source": "test/happy/a.jpg", "predicted": "Happy", "note": ""})
        writer.writerow({"source": "test/happy/b.jpg", "predicted": "Sad", "note": ""})
        writer.writerow({"source": "test/sad/c.jpg", "predicted": "Sad", "note": ""})
        writer.writerow({"source": "test/sad/d.jpg", "predicted": "", "note": "unreadable: x"})
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "folder_accuracy.py"), str(rows)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "accuracy 0.6667 on 3 faces (1 rows without one)",
        "recall: happy 0.50, sad 1.00",
    ]
