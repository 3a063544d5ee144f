"""What one upload to `expressions serve` may cost; `serve --help` shows these as its defaults."""

from __future__ import annotations

from dataclasses import dataclass

from expressions.data.limits import MAX_MEGAPIXELS


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10_000_000  # an upload's size
    max_pixels: int = round(MAX_MEGAPIXELS * 1e6)  # width x height, as the clean stage's limit
    waiting: int = 32  # uploads held at once (being read, queued or classified)
    # Uploads classified together: enough to turn a burst into batches, few enough that a webcam
    # frame caught behind a full batch waits about a second (MTCNN, 640x480, 2 cores).
    batch: int = 8
    video_bytes: int = 50_000_000  # a video's size (POST /video)
    video_s: float = 120.0  # a video's length
    # Frames of one video classified at most: a longer one is sampled evenly (about a minute of
    # work on 2 cores, during which photos still get their answers)
    video_frames: int = 900
