"""Faces in photos, folders and videos -> one row per face with every class probability.

Work goes in chunks of files: a chunk is decoded in parallel (inputs.py), its faces are found, cropped and
turned into model input by the clean stage's own `to_model_input`, and all of its faces are
classified in one batch while the next chunk decodes. A file that cannot be read, or an image
without a face, gives a row that says so; the run goes on.

Pre-cropped faces (`--detector none`) are decoded in processes, not threads: decoding plus
scikit-image's resize holds the GIL most of the time, so a second thread slows decoding down
(measured on 2 cores: 1,530 faces/s with 1 thread, 1,070 with 2, 2,550 with 2 processes). Photos keep
threads: the detector is their bottleneck, and shipping whole photos between processes costs
more than it saves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from expressions.data.images import to_model_input
from expressions.serving.classifier import Classifier
from expressions.serving.detect import MARGIN, Box, Detector, crop, reading_order, whole_image
from expressions.serving.inputs import (
    MAX_PIXELS,
    VIDEO_SUFFIXES,
    Frame,
    frames,
    read_image,
    read_whole,
    video_frames,
)
from expressions.serving.tracking import TrackOptions, VideoTracks

NO_FACE = "no face"
PROCESS_DECODING_FROM = 64  # files; below this a process pool's start-up costs more than it saves
READ_BATCH = 32  # files per decoding task: one task per file would cost more in IPC than decoding


@dataclass
class Row:
    source: str
    frame: int | None
    time_s: float | None
    face: int | None
    box: Box | None
    predicted: str | None
    proba: dict[str, float] = field(default_factory=dict)
    note: str = ""
    track: int | None = None  # a video's person: the same id in every frame they are seen


def _chunks(items: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    chunk: list[Frame] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def predict(
    files: Sequence[Path],
    classifier: Classifier,
    detector: Detector,
    every: int = 1,
    chunk: int = 256,
    margin: float = MARGIN,
    workers: int = 0,
    progress: bool = True,
    max_pixels: int = MAX_PIXELS,
    tracking: TrackOptions | None = TrackOptions(),  # noqa: B008 (frozen)
) -> Iterator[tuple[Frame, list[Row]]]:
    """For each image or video frame read: the frame and its rows (faces, no face, or error);
    a photo over `max_pixels` is refused from its header and gets its row saying so. Videos are
    followed (tracking.py) unless `tracking` is None: then every frame is searched afresh."""
    size = classifier.image_size
    workers = workers or os.cpu_count() or 1
    classifier.proba(np.zeros((1, size, size), np.uint8))  # one-time set-up before the bar starts
    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(workers))
        readers, read, batch = pool, partial(read_image, max_pixels=max_pixels), 1
        if detector is whole_image:  # the model input is known at decoding: make it there
            read = partial(read_whole, size=size, max_pixels=max_pixels)
            if workers > 1 and len(files) >= PROCESS_DECODING_FROM:
                readers = stack.enter_context(ProcessPoolExecutor(workers))
                batch = READ_BATCH
        total = work_units(files, every)
        bar = stack.enter_context(
            tqdm(
                total=total,
                unit="picture",
                desc="predict",
                disable=not progress or total <= 5,
                mininterval=0.5,
            )
        )
        done: set[str] = set()  # files whose one picture (or unreadable row) was counted

        def face_input(job: tuple[Frame, Box]) -> np.ndarray:
            f, box = job
            return to_model_input(crop(f.image if f.raw is None else f.raw, box, margin), size)

        def face_inputs(jobs: list[tuple[Frame, Box]]) -> list[np.ndarray]:
            """Crops are resized in threads; a whole-image face is already model input, and
            handing it to a thread would cost more than it does."""
            if all(f.whole is not None for f, _ in jobs):
                return [f.whole for f, _ in jobs]
            return list(pool.map(face_input, jobs))

        videos = _Videos(tracking, every)
        for group in _chunks(frames(files, every, readers, read, 2 * chunk, batch), chunk):
            readable = [f for f in group if f.image is not None]
            followed = {}  # id(frame) -> its video's tracks and what the frame needs
            for f in readable:
                if (tracks := videos.tracks_for(f)) is not None:
                    followed[id(f)] = (tracks, tracks.step(f.image, f.frame))
            searched = [f for f in readable if id(f) not in followed or followed[id(f)][1].search]
            found = dict(zip(map(id, searched), detector([f.image for f in searched]), strict=True))
            faces: dict[int, list[tuple[int | None, Box]]] = {}
            for f in readable:
                boxes = reading_order(found[id(f)]) if id(f) in found else None
                if id(f) in followed:
                    tracks, step = followed[id(f)]
                    faces[id(f)] = tracks.follow(step, f.frame, boxes, f.image.shape)
                else:
                    faces[id(f)] = [(None, b) for b in boxes or []]
            jobs = [(f, b) for f in readable for _, b in faces[id(f)]]
            inputs = face_inputs(jobs)
            stacked = np.stack(inputs) if inputs else np.zeros((0, size, size), np.uint8)
            proba = iter(classifier.proba(stacked))
            for f in group:
                rows = []
                for i, (track, box) in enumerate(faces.get(id(f), [])):
                    p = next(proba)
                    if id(f) in followed:
                        p = followed[id(f)][0].smooth(track, p)
                    rows.append(
                        Row(
                            f.source,
                            f.frame,
                            f.time_s,
                            i,
                            box.scaled(f.scale),  # in the file's own pixels
                            classifier.classes[int(p.argmax())],
                            dict(zip(classifier.classes, map(float, p), strict=True)),
                            track=track,
                        )
                    )
                if not rows:
                    rows = [
                        Row(f.source, f.frame, f.time_s, None, None, None, note=f.note or NO_FACE)
                    ]
                yield f, rows
                if f.frame is not None or f.source not in done:  # each video frame counts
                    done.add(f.source)
                    bar.update()


def work_units(files: Sequence[Path], every: int) -> int:
    """What the progress bar counts: a picture per image file, the frames read of each video (as
    its header states them), so one long video shows its progress too."""
    return sum(video_frames(f, every) if f.suffix.lower() in VIDEO_SUFFIXES else 1 for f in files)


class _Videos:
    """The VideoTracks of the video being read: a new one at each video's first frame."""

    def __init__(self, options: TrackOptions | None, every: int) -> None:
        self.options, self.every = options, every
        self.source: str | None = None
        self.tracks: VideoTracks | None = None

    def tracks_for(self, f: Frame) -> VideoTracks | None:
        """The tracks a frame belongs to; None for a photo, or where videos are not followed."""
        if self.options is None or f.frame is None:
            return None
        if f.source != self.source:
            self.source, self.tracks = f.source, VideoTracks(f.fps, self.options, self.every)
        return self.tracks
