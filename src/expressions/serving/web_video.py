"""POST /video of `expressions serve`: a video file in, each person's track summary and timeline
out, as `expressions predict clip.mp4 --tracks --timeline` gives them.

A video costs far more than a photo, so it is refused before any frame is classified when over
the limits (bytes as it arrives; then from OpenCV's reading of its header: duration, frame size,
frame count), and at most one is analysed at a time (a second gets a quick 503). At most
`Limits.video_frames` frames are classified: a longer video is sampled evenly (`every`, as
predict's --every), and the answer says so.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from expressions.serving.classifier import Classifier
from expressions.serving.detect import Detector
from expressions.serving.inputs import VIDEO_SUFFIXES, video_header
from expressions.serving.limits import Limits
from expressions.serving.output import record
from expressions.serving.predict import predict
from expressions.serving.timeline import track_summary

FIELD = "video"  # the multipart field that carries the video
KINDS = ", ".join(sorted(s.lstrip(".") for s in VIDEO_SUFFIXES))


@dataclass(frozen=True)
class Probe:
    frames: int
    fps: float
    width: int
    height: int

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def probe(path, name: str, limits: Limits, refused: type[Exception]) -> Probe:
    """The video's frame count, rate and size from its header, or `refused` with the sentence."""
    header = video_header(path)
    if header is None:
        raise refused(400, f"{name} could not be read as a video (try {KINDS}).")
    frames, fps, width, height = header
    if frames <= 0 or fps <= 0 or width <= 0 or height <= 0:
        raise refused(400, f"{name} states no frame count, rate or size; it cannot be analysed.")
    found = Probe(frames, fps, width, height)
    if found.seconds > limits.video_s:
        raise refused(
            400,
            f"{name} is {found.seconds:.1f} s long, over this server's limit of "
            f"{limits.video_s:g} s.",
        )
    if width * height > limits.max_pixels:
        raise refused(
            400, f"{name}'s frames are {width}x{height} pixels, over this server's limit of "
            f"{limits.max_pixels / 1e6:g} megapixels."
        )  # fmt: skip
    return found


def add_video_route(
    app: FastAPI,
    classifier: Classifier,
    detector: Detector,
    limits: Limits,
    margin: float,
    read_upload,
    refused: type[Exception],
) -> None:
    """POST /video on `app`; `read_upload` and `refused` are web.py's, so refusals read alike."""
    classes = list(classifier.classes)
    busy = False  # a video in hand; only the event loop's thread changes it

    def analyse(path, every: int) -> list[dict[str, Any]]:
        found = predict(
            [path], classifier, detector, every, margin=margin, progress=False, chunk=64
        )
        return [record(r, classes) for _, rows in found for r in rows]

    @app.post("/video")
    async def video(request: Request) -> JSONResponse:
        nonlocal busy
        if busy:
            raise refused(503, "The server is analysing another video; try again in a moment.")
        busy = True
        path = None
        try:
            name, data, _ = await read_upload(request, limits.video_bytes, FIELD)
            suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if suffix not in VIDEO_SUFFIXES:
                raise refused(415, f"{name} is not a video this server reads (try {KINDS}).")
            path = request.app.state.uploads / f"{uuid.uuid4().hex}{suffix}"
            await asyncio.to_thread(path.write_bytes, data)
            del data
            found = probe(path, name, limits, refused)
            every = max(1, math.ceil(found.frames / limits.video_frames))
            rows = await asyncio.to_thread(analyse, path, every)
        finally:
            busy = False
            if path is not None:
                path.unlink(missing_ok=True)
        for row in rows:
            row["source"] = name
        return JSONResponse(
            {
                "classes": classes,
                "source": name,
                "seconds": round(found.seconds, 3),
                "every": every,
                "tracks": track_summary(rows, classes),
                "rows": [r for r in rows if r["track"] is not None],
            }
        )
