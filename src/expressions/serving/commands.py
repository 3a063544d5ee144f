"""The `expressions` console script's subcommands, one function pair each.

A subcommand is a name in COMMANDS mapping to (add its arguments, run it). Adding one (as the web
page's `serve` did, in serve.py) is a new module with those two functions and one line here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from expressions.core.errors import PredictionError
from expressions.data.limits import MAX_MEGAPIXELS
from expressions.serving.options import add_model_options, check_margin
from expressions.serving.serve import add_serve, run_serve
from expressions.serving.tracking import TrackOptions

TRACKING = TrackOptions()  # its defaults are predict's
Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], None]]
SUMMARIES = {
    "predict": "find the faces in photos, folders and videos and classify each one",
    "serve": "a local web page and JSON API that classify the faces in a photo or the webcam",
}


def add_predict(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Find every face in photos, folders (recursively) and videos, and give each face's "
        "expression with the probability of every class."
    )
    parser.add_argument("inputs", nargs="+", help="image files, folders, video files")
    add_model_options(parser)
    parser.add_argument(
        "--every", type=int, default=1, help="videos: classify every N-th frame (default 1)"
    )
    parser.add_argument(
        "--search-every",
        type=float,
        default=TRACKING.search_every_s,
        metavar="SECONDS",
        help="videos: search the whole frame for faces every SECONDS of video and follow the "
        f"faces found in between (default {TRACKING.search_every_s:g}: every 6th frame at 30 fps; "
        "0 searches every frame)",
    )
    parser.add_argument(
        "--smooth",
        type=float,
        default=TRACKING.smooth,
        help="videos: the newest frame's weight in each person's moving average of the "
        f"probabilities (default {TRACKING.smooth}; 1 = no smoothing)",
    )
    parser.add_argument("--csv", type=Path, help="write the rows to this CSV file")
    parser.add_argument("--json", type=Path, help="write the rows to this JSON file")
    parser.add_argument(
        "--tracks",
        type=Path,
        metavar="FILE",
        help="videos: one row per person (track) to this CSV or .json file: first and last "
        "time seen, frames, the share of time in each expression",
    )
    parser.add_argument(
        "--timeline",
        type=Path,
        metavar="DIR",
        help="videos: each person's probabilities over time into DIR, a PNG and a Vega-Lite "
        "spec per video",
    )
    parser.add_argument(
        "--annotate",
        type=Path,
        metavar="DIR",
        help="draw the faces into DIR, named after each input's whole path: a PNG per photo "
        "(photos/a/face.jpg -> DIR/photos__a__face.jpg.png), an MP4 per video with track ids",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="faces per model batch (default 32, the fastest on a CPU)",
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=MAX_MEGAPIXELS,
        help=f"photos with more pixels are refused, each with its row (default {MAX_MEGAPIXELS:g}, "
        "as `serve`; a photo costs about 35 bytes a pixel to decode)",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--table", action="store_true", help="the table on the terminal even with --csv/--json"
    )
    shown.add_argument("--quiet", action="store_true", help="no table on the terminal")


def run_predict(args: argparse.Namespace) -> None:
    from expressions.serving import output, timeline
    from expressions.serving.annotate import Annotations, check_annotate_folder
    from expressions.serving.choose import choose_model, in_use
    from expressions.serving.classifier import load_file
    from expressions.serving.detect import make_detector
    from expressions.serving.inputs import expand
    from expressions.serving.output import count
    from expressions.serving.predict import predict

    if args.every < 1:
        raise PredictionError(f"--every must be a whole number >= 1, not {args.every}")
    if not 0 <= args.search_every <= 60:
        raise PredictionError(f"--search-every is seconds in [0, 60], not {args.search_every:g}")
    if not 0 < args.smooth <= 1:
        raise PredictionError(f"--smooth must be above 0 and at most 1, not {args.smooth:g}")
    if args.batch_size < 1:
        raise PredictionError(f"--batch-size must be >= 1, not {args.batch_size}")
    check_margin(args.margin)
    if not args.max_megapixels > 0:
        raise PredictionError(f"--max-megapixels must be above 0, not {args.max_megapixels:g}")
    if args.annotate:
        check_annotate_folder(args.annotate)
    found = expand(args.inputs)
    files = found.files
    if not files:
        others = f" ({count(found.skipped, 'other file')})" if found.skipped else ""
        raise PredictionError(f"no image or video files in {', '.join(args.inputs)}{others}")
    chosen = choose_model(args.model, args.runtime)
    classifier = load_file(chosen.path, args.batch_size)
    print("\n".join(in_use(chosen, classifier)), file=sys.stderr)
    detector = make_detector(args.detector)
    records, read = [], []
    start = time.perf_counter()
    max_pixels = round(args.max_megapixels * 1e6)
    tracking = replace(TRACKING, search_every_s=args.search_every, smooth=args.smooth)
    with ExitStack() as stack:
        drawings = (
            stack.enter_context(Annotations(args.annotate, args.every)) if args.annotate else None
        )
        for frame, rows in predict(
            files,
            classifier,
            detector,
            args.every,
            margin=args.margin,
            max_pixels=max_pixels,
            tracking=tracking,
        ):
            if frame.image is not None:
                read.append(frame.frame is not None)  # True: a video frame
            records.extend(output.record(r, classifier.classes) for r in rows)
            if drawings:
                drawings.add(frame, rows)
    for path in (args.csv, args.json):
        if path:
            output.write_records(path, records, classifier.classes)
    if args.tracks:
        timeline.write_tracks(args.tracks, timeline.track_summary(records, classifier.classes))
    if args.timeline:
        timeline.write_timelines(records, classifier.classes, args.timeline)
    if args.table or not (args.quiet or args.csv or args.json):  # a file asked for: no table
        print(output.table(records, classifier.classes))
    seconds = time.perf_counter() - start  # after the model and detector loaded: the rate users get
    print(output.summary(records, read, len(files), seconds, found.skipped), file=sys.stderr)
    if not read:
        raise PredictionError(f"none of the {len(files)} inputs could be read as an image or video")


COMMANDS: dict[str, Command] = {
    "predict": (add_predict, run_predict),
    "serve": (add_serve, run_serve),
}


def version() -> str:
    try:
        return metadata.version("expressions")
    except metadata.PackageNotFoundError:  # run from a checkout without installing it
        return "(not installed)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="expressions",
        description="Use a trained facial-expression classifier: by default this project's "
        "release when it learnt from real faces, else the FER2013 model shipped with the package.",
        epilog="`expressions COMMAND --help` gives each command's options and their defaults.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add, _) in COMMANDS.items():
        add(sub.add_parser(name, help=SUMMARIES[name], description=SUMMARIES[name]))
    return top


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    COMMANDS[args.command][1](args)
