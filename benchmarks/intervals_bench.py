"""How fast the bootstrap intervals of every comparison are, against a plain scikit-learn loop.

The analysis stages resample each test split 1,000 times per metric and per pair of variants,
so this times what one comparison costs on a FER2013-sized test split (3,500 images, 4 classes):
`bootstrap_interval` plus `paired_difference` on macro F1 (target: under 1 s together), against
the same resamples scored one at a time with `sklearn.metrics.f1_score`.

    python benchmarks/intervals_bench.py [--quick] [--images N] [--resamples R] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from expressions.analysis.intervals import bootstrap_interval, paired_difference

ROOT = Path(__file__).resolve().parents[1]
CLASSES = 4
TARGET_S = 1.0
REFERENCE_RESAMPLES = 100  # the loop is slow: its time is scaled up from this many


def predictions(truth: np.ndarray, accuracy: float, seed: int) -> np.ndarray:
    """Right on about `accuracy` of the images, another class on the rest."""
    rng = np.random.default_rng(seed)
    other = (truth + rng.integers(1, CLASSES, len(truth))) % CLASSES
    return np.where(rng.random(len(truth)) < accuracy, truth, other)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 images, 200 resamples")
    parser.add_argument("--images", type=int, default=3500)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "intervals.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.resamples = 500, 200
    truth = np.random.default_rng(0).integers(0, CLASSES, args.images)
    a, b = predictions(truth, 0.8, seed=1), predictions(truth, 0.85, seed=2)

    start = time.perf_counter()
    bootstrap_interval(truth, a, "macro_f1", CLASSES, resamples=args.resamples)
    paired_difference(truth, a, b, "macro_f1", CLASSES, resamples=args.resamples)
    project_s = time.perf_counter() - start

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(REFERENCE_RESAMPLES):  # an interval and a paired difference: three scores
        i = rng.integers(0, args.images, args.images)
        for predicted in (a, a, b):
            f1_score(truth[i], predicted[i], average="macro", labels=range(CLASSES))
    reference_s = (time.perf_counter() - start) * args.resamples / REFERENCE_RESAMPLES

    report = {
        "images": args.images,
        "resamples": args.resamples,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "project_s": round(project_s, 3),
        "reference_s": round(reference_s, 3),
        "ratio": round(reference_s / project_s, 1),
        "target_s": TARGET_S,
        "pass": project_s < TARGET_S,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"intervals ({args.images} images, {args.resamples} resamples, macro F1): interval + paired "
        f"difference {project_s:.2f} s vs a scikit-learn loop {reference_s:.1f} s "
        f"({report['ratio']:.0f}x; target < {TARGET_S:g} s), load {report['load_average']}"
    )
    return report


if __name__ == "__main__":
    main()
