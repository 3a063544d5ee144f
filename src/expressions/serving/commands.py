"""The `expressions` console script's subcommands, one function pair each.

A subcommand is a name in COMMANDS mapping to (add its arguments, run it). Adding one (as the web
page's `serve` did, in serve.py) is a new module with those two functions and one line here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from expressions.errors import PredictionError
from expressions.serving.detect import DEFAULT, DETECTORS
from expressions.serving.serve import add_serve, run_serve

Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], None]]


def add_predict(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Find every face in photos, folders (recursively) and videos, and give each face's "
        "expression with the probability of every class."
    )
    parser.add_argument("inputs", nargs="+", help="image files, folders, video files")
    parser.add_argument(
        "--model",
        help="a variant name (tuned), a model folder, a .pt or a .onnx file "
        "(default: models/release, from `dvc repro release`)",
    )
    parser.add_argument(
        "--detector",
        choices=DETECTORS,
        default=DEFAULT,
        help=f"face detector (default {DEFAULT}); none: each image is one face (pre-cropped)",
    )
    parser.add_argument("--every", type=int, default=1, help="videos: every N-th frame")
    parser.add_argument("--margin", type=float, default=0.1, help="added around each face box")
    parser.add_argument("--csv", type=Path, help="write the rows to this CSV file")
    parser.add_argument("--json", type=Path, help="write the rows to this JSON file")
    parser.add_argument("--annotate", type=Path, metavar="DIR", help="draw the faces into DIR")
    parser.add_argument(
        "--runtime",
        choices=("auto", "torch", "onnx"),
        default="auto",
        help="for a model folder: onnx (onnxruntime, 2-3x faster on a CPU; auto when installed) "
        "or torch (evaluate's exact numbers)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="faces per model batch (32: fastest on a CPU)"
    )
    parser.add_argument("--quiet", action="store_true", help="no table on the terminal")


def run_predict(args: argparse.Namespace) -> None:
    from expressions.serving import output
    from expressions.serving.classifier import load_classifier
    from expressions.serving.detect import make_detector
    from expressions.serving.predict import expand, predict

    if args.every < 1:
        raise PredictionError(f"--every must be a whole number >= 1, not {args.every}")
    if args.batch_size < 1:
        raise PredictionError(f"--batch-size must be >= 1, not {args.batch_size}")
    if not 0 <= args.margin <= 1:
        raise PredictionError(f"--margin must be between 0 and 1, not {args.margin}")
    files = expand(args.inputs)
    if not files:
        raise PredictionError(f"no image or video files in {', '.join(args.inputs)}")
    classifier = load_classifier(args.model, args.batch_size, args.runtime)
    detector = make_detector(args.detector)
    records, read = [], 0
    for frame, rows in predict(
        files, classifier, detector, args.every, margin=args.margin, progress=True
    ):
        read += frame.image is not None
        records.extend(output.record(r, classifier.classes) for r in rows)
        if args.annotate:
            output.annotate(frame, rows, args.annotate)
    for path in (args.csv, args.json):
        if path:
            output.write_records(path, records, classifier.classes)
    if not args.quiet:
        print(output.table(records, classifier.classes))
    faces = sum(r["face"] is not None for r in records)
    print(f"{faces} faces in {read} images/frames of {len(files)} files", file=sys.stderr)
    if read == 0:
        raise PredictionError(f"none of the {len(files)} inputs could be read as an image or video")


COMMANDS: dict[str, Command] = {
    "predict": (add_predict, run_predict),
    "serve": (add_serve, run_serve),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="expressions", description="Use the trained facial-expression classifier."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add, _) in COMMANDS.items():
        add(sub.add_parser(name, help=f"{name}: see `expressions {name} --help`"))
    return top


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    COMMANDS[args.command][1](args)
