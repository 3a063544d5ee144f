"""`expressions serve`: a web page (and its JSON API) for one model, on this machine by default.

It binds to 127.0.0.1 unless told otherwise: whoever reaches the port can send it photos of
faces, so opening it to a network is the user's explicit choice (`--host 0.0.0.0`). FastAPI and
uvicorn are imported only when the command runs, so `expressions predict` never needs them.
"""

from __future__ import annotations

import argparse
import sys

from expressions.errors import PredictionError
from expressions.serving.detect import DEFAULT, DETECTORS


def add_serve(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "A local web page: choose, drop or film a photo and see each face's expression with the "
        "probability of every class. POST /predict answers as `expressions predict --json`."
    )
    parser.add_argument(
        "--model",
        help="as for predict: a variant name, a model folder, a .pt or a .onnx file "
        "(default: models/release, from `dvc repro release`)",
    )
    parser.add_argument(
        "--detector", choices=DETECTORS, default=DEFAULT, help=f"as for predict (default {DEFAULT})"
    )
    parser.add_argument(
        "--runtime", choices=("auto", "torch", "onnx"), default="auto", help="as for predict"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--max-upload-mb", type=float, default=10.0, help="largest photo accepted (default 10)"
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=25.0,
        help="largest width x height accepted (default 25)",
    )
    parser.add_argument(
        "--waiting",
        type=int,
        default=32,
        help="photos held at once; more get 503, busy (default 32)",
    )
    parser.add_argument("--margin", type=float, default=0.1, help="added around each face box")


def run_serve(args: argparse.Namespace) -> None:
    if not 1 <= args.port <= 65535:
        raise PredictionError(f"--port must be between 1 and 65535, not {args.port}")
    for option in ("max_upload_mb", "max_megapixels", "waiting"):
        if getattr(args, option) <= 0:
            flag = "--" + option.replace("_", "-")
            raise PredictionError(f"{flag} must be more than 0, not {getattr(args, option)}")
    if not 0 <= args.margin <= 1:
        raise PredictionError(f"--margin must be between 0 and 1, not {args.margin}")
    try:
        import uvicorn

        from expressions.serving import web
    except ImportError as err:
        raise PredictionError(
            f"expressions serve needs FastAPI, uvicorn and python-multipart ({err}); "
            "pip install 'expressions[serve]'"
        ) from None
    from expressions.serving.card import model_info
    from expressions.serving.classifier import load_classifier, resolve_model
    from expressions.serving.detect import make_detector

    path = resolve_model(args.model, args.runtime)
    classifier = load_classifier(path, runtime=args.runtime)
    limits = web.Limits(
        max_bytes=round(args.max_upload_mb * 1e6),
        max_pixels=round(args.max_megapixels * 1e6),
        waiting=args.waiting,
    )
    app = web.make_app(
        classifier,
        make_detector(args.detector),
        model_info(path, classifier.classes),
        limits,
        args.margin,
    )
    print(f"expressions serve: {path} on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
