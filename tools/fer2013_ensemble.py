"""An ensemble of FER2013 models, measured: each member's and the ensemble's test accuracy (with
bootstrap 95 % intervals), the ensemble against its best member on the same faces (a paired
interval, in words), and the faces/s of each through `expressions predict --detector none`.

    python tools/fer2013_ensemble.py PROJECT --member FILE --member FILE [--views 10]
                                     [--faces N] [--out bench-results/fer2013-ensemble]

PROJECT is a scratch project that merged FER2013 (tools/real.py --keep DIR): its test split
(PrivateTest less its copies of training faces) is scored. Each FILE is a model.onnx reading
48 px faces; the ensemble (release/ensemble.py: the mean of the members' calibrated
probabilities, one ONNX file) runs at --views test-time views. Writes OUT.onnx, OUT.json, OUT.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from expressions.analysis.intervals import (
    bootstrap_interval,
    describe_difference,
    paired_difference,
)
from expressions.core import paths
from expressions.data.dataset import load_merged
from expressions.release.ensemble import ensemble_onnx
from expressions.release.onnx_model import OnnxClassifier
from expressions.serving.speed import faces_per_s

VIEWS = {1: {"tta_flip": "false", "tta_crops": "false"}, 2: {"tta_flip": "true", "tta_crops": "false"},
         10: {"tta_flip": "true", "tta_crops": "true"}}  # fmt: skip


def scored(model: Path, x: np.ndarray, y: np.ndarray, files: list[Path]) -> tuple[dict, np.ndarray]:
    classifier = OnnxClassifier.load(model)
    predicted = classifier.proba(x).argmax(1)
    low, high = bootstrap_interval(y, predicted, "accuracy", len(classifier.classes))
    row = {
        "views": len(classifier.views),
        "accuracy": round(float((predicted == y).mean()), 4),
        "interval": [round(low, 4), round(high, 4)],
        "faces_per_s": round(faces_per_s(classifier, files)),
    }
    return row, predicted


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--member", action="append", type=Path, required=True)
    parser.add_argument("--views", type=int, choices=sorted(VIEWS), default=10)
    parser.add_argument("--faces", type=int, default=400, help="test faces timed")
    parser.add_argument("--out", type=Path, default=Path("bench-results/fer2013-ensemble"))
    args = parser.parse_args(argv)
    x, y = load_merged(args.project / paths.DATASET).part("test")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    crop = {"crop": "0.9"}  # the test-time crops' side, as every FER2013 model here was scored
    ensemble_onnx(args.member, args.out.with_suffix(".onnx"), VIEWS[args.views] | crop)
    rows, predictions = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        files = []
        for i, face in enumerate(x[: args.faces]):
            files.append(Path(scratch) / f"{i:05d}.png")
            Image.fromarray(face).save(files[-1])
        for name, model in [(str(m), m) for m in args.member] + [
            ("ensemble", args.out.with_suffix(".onnx"))
        ]:
            rows[name], predictions[name] = scored(model, x, y, files)
            print(name, rows[name], flush=True)
    best = max(args.member, key=lambda m: rows[str(m)]["accuracy"])
    n = len(set(y.tolist()))
    paired = paired_difference(y, predictions[str(best)], predictions["ensemble"], "accuracy", n)
    words = describe_difference(
        "ensemble", "its best member", paired.difference, paired.low, paired.high
    )
    report = {"rows": rows, "difference": words, "test_faces": len(y), "timed_faces": len(files),
              "load_average": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()}  # fmt: skip
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["| model | views | test accuracy | 95 % interval | faces/s |", "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for name, r in rows.items():
        lo, hi = r["interval"]
        lines.append(f"| {name} | {r['views']} | {r['accuracy']:.3f} | [{lo:.3f}, {hi:.3f}] | "
                     f"{r['faces_per_s']:,} |")  # fmt: skip
    text = "\n".join(lines) + f"\n\n{words} ({len(y):,} test faces).\n"
    args.out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
