"""Accuracy against speed for FER2013 models: each operating point's test accuracy (with its
bootstrap 95 % interval) and its faces/s through `expressions predict --detector none`.

    python tools/fer2013_curve.py PROJECT --model NAME=FILE [--model ...] [--faces N]
                                  [--out bench-results/fer2013-curve]

PROJECT is a scratch project that merged FER2013 (tools/fer2013_fast.py --keep DIR, or
tools/real.py --keep DIR): its test split is scored. Each FILE is a model.onnx; a ten-view
file is also measured at one view (the whole face) and two (with its mirror), by its metadata,
and each is quantized to int8 (static, calibrated on val faces) and measured again. Speed: the
first N test faces written as PNG files, read and classified by predict() as the command runs
them, medians of 3. Writes NAME.json and NAME.md (the table) and NAME.png (the plot).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from PIL import Image

from expressions.analysis.intervals import bootstrap_interval
from expressions.core import paths
from expressions.data.dataset import load_merged
from expressions.release.onnx_model import OnnxClassifier
from expressions.release.quantize import quantize_int8
from expressions.serving.speed import faces_per_s

VIEWS = {1: ("false", "false"), 2: ("true", "false"), 10: ("true", "true")}  # flip, crops


def with_views(source: Path, target: Path, views: int) -> None:
    """The same network, its metadata asking for 1, 2 or 10 test-time views."""
    proto = onnx.load(str(source))
    flip, crops = VIEWS[views]
    for entry in proto.metadata_props:
        if entry.key == "tta_flip":
            entry.value = flip
        if entry.key == "tta_crops":
            entry.value = crops
    onnx.save(proto, str(target))


def point(model: Path, x: np.ndarray, y: np.ndarray, files: list[Path]) -> dict:
    classifier = OnnxClassifier.load(model)
    predicted = classifier.proba(x).argmax(1)
    n = len(classifier.classes)
    low, high = bootstrap_interval(y, predicted, "accuracy", n)
    return {
        "views": len(classifier.views),
        "accuracy": round(float((predicted == y).mean()), 4),
        "interval": [round(low, 4), round(high, 4)],
        "faces_per_s": round(
            faces_per_s(classifier, files[: 400 if len(classifier.views) > 1 else None], 3)
        ),
    }


def markdown(points: dict[str, dict], faces: int) -> str:
    lines = [
        "| operating point | views | precision | test accuracy | 95 % interval | faces/s |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, p in sorted(points.items(), key=lambda kv: -kv[1]["faces_per_s"]):
        low, high = p["interval"]
        lines.append(
            f"| {name} | {p['views']} | {p['precision']} | {p['accuracy']:.3f} | "
            f"[{low:.3f}, {high:.3f}] | {p['faces_per_s']:,} |"
        )
    return (
        "\n".join(lines)
        + f"\n\nSpeed on up to {faces:,} test faces as PNG files, decoding included.\n"
    )


def plot(points: dict[str, dict], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, p in points.items():
        low, high = p["interval"]
        axes.errorbar(
            p["faces_per_s"],
            p["accuracy"],
            yerr=[[p["accuracy"] - low], [high - p["accuracy"]]],
            fmt="o" if p["precision"] == "float32" else "s",
            capsize=3,
        )
        axes.annotate(name, (p["faces_per_s"], p["accuracy"]), fontsize=8, xytext=(4, 4),
                      textcoords="offset points")  # fmt: skip
    axes.set_xscale("log")
    rates = [p["faces_per_s"] for p in points.values()]
    left, right = min(rates) / 1.3, max(rates) * 2.2  # room for the names on the right
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000) if left <= t <= right]
    axes.set_xticks(ticks, [str(t) for t in ticks])  # set_xticks widens the axis to its ticks,
    axes.set_xlim(left, right)  # so the limits come after
    axes.minorticks_off()
    axes.set_xlabel("faces/s through expressions predict --detector none (2-core CPU, log scale)")
    axes.set_ylabel("FER2013 test accuracy (PrivateTest less copies)")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=120)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FILE")
    parser.add_argument("--faces", type=int, default=2000, help="test faces timed")
    parser.add_argument("--out", type=Path, default=Path("bench-results/fer2013-curve"))
    args = parser.parse_args(argv)
    merged = load_merged(args.project / paths.DATASET)
    x_val = merged.part("val")[0]
    x, y = merged.part("test")
    points: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        files = []
        for i, face in enumerate(x[: args.faces]):
            files.append(scratch / f"{i:05d}.png")
            Image.fromarray(face).save(files[-1])
        for spec in args.model:
            name, _, file = spec.partition("=")
            views = [1, 2, 10] if len(OnnxClassifier.load(Path(file)).views) == 10 else [1]
            for v in views:
                fp32 = scratch / f"{name}-{v}.onnx"
                with_views(Path(file), fp32, v)
                int8 = scratch / f"{name}-{v}.int8.onnx"
                quantize_int8(fp32, int8, x_val)
                for precision, model in (("float32", fp32), ("int8", int8)):
                    label = f"{name}, {v} view{'s' if v > 1 else ''}, {precision}"
                    points[label] = point(model, x, y, files) | {"precision": precision}
                    print(label, points[label], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "points": points,
        "test_faces": len(y),
        "timed_faces": len(files),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(points, len(files)))
    plot(points, args.out.with_suffix(".png"))
    print(markdown(points, len(files)))


if __name__ == "__main__":
    main(sys.argv[1:])
