"""The options `expressions predict` and `expressions serve` share, defined once: which model,
which face detector, which runtime, how much margin around a face."""

from __future__ import annotations

import argparse

from expressions.core.errors import PredictionError
from expressions.serving.detect import DEFAULT, DETECTORS, MARGIN

RUNTIMES = ("auto", "torch", "onnx")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        help="a variant name (tuned), a model folder, a .pt or a .onnx file, or a model that "
        "ships with the package: fer2013 (fast: one view) or fer2013-accurate (ten views, "
        "slower); default: models/release when it was trained on real faces, else fer2013",
    )
    parser.add_argument(
        "--detector",
        choices=DETECTORS,
        default=DEFAULT,
        help=f"face detector (default {DEFAULT}); none: each image is one face (pre-cropped)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="for a model folder: onnx (onnxruntime's float32 model.onnx, 2-3x faster than "
        "torch on a CPU), torch (evaluate's exact numbers) or auto (default: the folder's int8 "
        "model.int8.onnx where it has one, else model.onnx, when onnxruntime is installed)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=MARGIN,
        help=f"added around each face box, as a fraction of its side (default {MARGIN})",
    )


def check_margin(margin: float) -> None:
    if not 0 <= margin <= 1:
        raise PredictionError(f"--margin must be between 0 and 1, not {margin}")
