"""`expressions serve`: a web page (and its JSON API) for one model, on this machine by default.

It binds to 127.0.0.1 unless told otherwise: whoever reaches the port can send it photos of
faces, so opening it to a network is the user's explicit choice (`--host 0.0.0.0`). FastAPI and
uvicorn are imported only when the command runs, so `expressions predict` never needs them.
"""

from __future__ import annotations

import argparse
import sys

from expressions.core.errors import PredictionError
from expressions.serving.limits import Limits
from expressions.serving.options import add_model_options, check_margin

LIMITS = Limits()


def add_serve(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "A local web page: choose, drop or film a photo and see each face's expression with the "
        "probability of every class. POST /predict answers as `expressions predict --json`."
    )
    add_model_options(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    mb, megapixels = LIMITS.max_bytes / 1e6, LIMITS.max_pixels / 1e6
    parser.add_argument(
        "--max-upload-mb", type=float, default=mb, help=f"largest photo accepted (default {mb:g})"
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=megapixels,
        help=f"largest width x height accepted (default {megapixels:g})",
    )
    video_mb = LIMITS.video_bytes / 1e6
    parser.add_argument(
        "--max-video-mb",
        type=float,
        default=video_mb,
        help=f"largest video accepted on POST /video (default {video_mb:g})",
    )
    parser.add_argument(
        "--max-video-s",
        type=float,
        default=LIMITS.video_s,
        help=f"longest video accepted, in seconds (default {LIMITS.video_s:g})",
    )
    parser.add_argument(
        "--waiting",
        type=int,
        default=LIMITS.waiting,
        help=f"photos held at once; more get 503, busy (default {LIMITS.waiting})",
    )


def run_serve(args: argparse.Namespace) -> None:
    if not 1 <= args.port <= 65535:
        raise PredictionError(f"--port must be between 1 and 65535, not {args.port}")
    for option in ("max_upload_mb", "max_megapixels", "waiting", "max_video_mb", "max_video_s"):
        if getattr(args, option) <= 0:
            flag = "--" + option.replace("_", "-")
            raise PredictionError(f"{flag} must be more than 0, not {getattr(args, option)}")
    check_margin(args.margin)
    try:
        import uvicorn

        from expressions.serving import web
    except ImportError as err:
        raise PredictionError(
            f"expressions serve needs FastAPI, uvicorn and python-multipart ({err}); "
            "pip install 'expressions[serve]'"
        ) from None
    from expressions.release.card import model_info
    from expressions.serving.choose import choose_model, in_use
    from expressions.serving.classifier import load_file
    from expressions.serving.detect import make_detector

    chosen = choose_model(args.model, args.runtime)
    classifier = load_file(chosen.path)
    print("\n".join(in_use(chosen, classifier)), file=sys.stderr)
    limits = Limits(
        max_bytes=round(args.max_upload_mb * 1e6),
        max_pixels=round(args.max_megapixels * 1e6),
        waiting=args.waiting,
        video_bytes=round(args.max_video_mb * 1e6),
        video_s=args.max_video_s,
    )
    app = web.make_app(
        classifier,
        make_detector(args.detector),
        model_info(chosen.path, classifier.classes, chosen.why, classifier.real_faces),
        limits,
        args.margin,
    )
    print(f"expressions serve: http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
