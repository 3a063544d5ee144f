"""Faces in photos, folders and videos -> one row per face with every class probability.

Work goes in chunks of files: a chunk is decoded in parallel, its faces are found, cropped and
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
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from expressions.data.images import UnreadableImage, decode, to_model_input
from expressions.serving.classifier import Classifier
from expressions.serving.detect import Box, Detector, crop, whole_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".webm", ".mkv"}
NO_FACE = "no face"
PROCESS_DECODING_FROM = 64  # files; below this a process pool's start-up costs more than it saves
READ_BATCH = 32  # files per decoding task: one task per file would cost more in IPC than decoding


@dataclass
class Frame:
    """One picture to search for faces: an image file, or one frame of a video."""

    source: str
    image: np.ndarray | None  # RGB/gray uint8; None when the file could not be read
    frame: int | None = None
    time_s: float | None = None
    note: str = ""  # why the file could not be read
    raw: np.ndarray | None = None  # the decoded pixels as the clean stage sees them (any depth)
    whole: np.ndarray | None = None  # model input of the whole image, for --detector none


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


def expand(inputs: Sequence[str | Path]) -> list[Path]:
    """Files as given (any suffix: a non-image says so in its row); folders recursively, sorted,
    keeping the image and video files."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = (
                p
                for p in item.rglob("*")
                if p.is_file()
                and p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
                and not p.name.startswith("._")
            )
            files.extend(sorted(found))
        else:
            files.append(item)
    return files


def _as_uint8(image: np.ndarray) -> np.ndarray:
    """Decoded pixels as 8-bit gray or RGB, which detectors and drawing expect."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] in (2, 4):  # alpha: on white, like the clean stage
        alpha = image[..., -1:].astype(np.float32) / 255
        image = np.rint(image[..., :-1] * alpha + 255 * (1 - alpha)).astype(np.uint8)
        image = image[..., 0] if image.shape[2] == 1 else image
    return image


def read_image(path: Path) -> Frame:
    if not path.exists():
        return Frame(str(path), None, note="not found")
    try:
        raw = decode(path)
        return Frame(str(path), _as_uint8(raw), raw=raw)
    except UnreadableImage as err:
        return Frame(str(path), None, note=str(err))


def read_whole(path: Path, size: int) -> Frame:
    """An image that is one face (`--detector none`): decoded and made model input at once."""
    frame = read_image(path)
    if frame.raw is not None:
        frame.whole = to_model_input(frame.raw, size)
        frame.raw = None  # not needed any more; no need to ship it back from a process either
    return frame


def read_video(path: Path, every: int) -> Iterator[Frame]:
    """Every `every`-th frame, with its index and timestamp; one row if nothing decodes."""
    try:
        import cv2
    except ImportError:
        yield Frame(str(path), None, note="unreadable: videos need opencv-python-headless")
        return
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    index, any_frame = 0, False
    try:
        while True:
            if not capture.grab():
                break
            if index % every == 0:
                ok, bgr = capture.retrieve()
                if ok:
                    any_frame = True
                    time_s = round(index / fps, 3) if fps > 0 else None
                    yield Frame(str(path), bgr[..., ::-1].copy(), index, time_s)
            index += 1
    finally:
        capture.release()
    if not any_frame:
        yield Frame(str(path), None, note="unreadable: no video frame could be decoded")


def _read_all(read: Callable[[Path], Frame], paths: list[Path]) -> list[Frame]:
    return [read(path) for path in paths]


def _ahead(
    pool: Executor, read: Callable[[Path], Frame], items: list[Path], ahead: int, batch: int
) -> Iterator[Frame]:
    """pool.map in order, in tasks of `batch` files and at most `ahead` files in flight:
    decoding runs on while the caller classifies, and a folder of 100,000 photos is never held
    in memory at once."""
    pending: deque[Future[list[Frame]]] = deque()
    for start in range(0, len(items), batch):
        pending.append(pool.submit(_read_all, read, items[start : start + batch]))
        if len(pending) * batch >= ahead:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def frames(
    files: Sequence[Path],
    every: int,
    pool: Executor,
    read: Callable[[Path], Frame] = read_image,
    ahead: int = 512,
    batch: int = 1,
) -> Iterator[Frame]:
    """Images decoded in parallel (in order); videos frame by frame."""
    images: list[Path] = []
    for path in files:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            yield from _ahead(pool, read, images, ahead, batch)
            images = []
            yield from read_video(path, every)
        else:
            images.append(path)
    yield from _ahead(pool, read, images, ahead, batch)


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
    margin: float = 0.1,
    workers: int = 0,
    progress: bool = True,
) -> Iterator[tuple[Frame, list[Row]]]:
    """For each image or video frame read: the frame and its rows (faces, no face, or error)."""
    size = classifier.image_size
    workers = workers or os.cpu_count() or 1
    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(workers))
        readers, read, batch = pool, read_image, 1
        if detector is whole_image:  # the model input is known at decoding: make it there
            read = partial(read_whole, size=size)
            if workers > 1 and len(files) >= PROCESS_DECODING_FROM:
                readers = stack.enter_context(ProcessPoolExecutor(workers))
                batch = READ_BATCH
        bar = stack.enter_context(
            tqdm(
                total=len(files),
                unit="file",
                desc="predict",
                disable=not progress or len(files) <= 5,
                mininterval=0.5,
            )
        )
        done: set[str] = set()

        def face_input(job: tuple[Frame, Box]) -> np.ndarray:
            f, box = job
            return to_model_input(crop(f.image if f.raw is None else f.raw, box, margin), size)

        def face_inputs(jobs: list[tuple[Frame, Box]]) -> list[np.ndarray]:
            """Crops are resized in threads; a whole-image face is already model input, and
            handing it to a thread would cost more than it does."""
            if all(f.whole is not None for f, _ in jobs):
                return [f.whole for f, _ in jobs]
            return list(pool.map(face_input, jobs))

        for group in _chunks(frames(files, every, readers, read, 2 * chunk, batch), chunk):
            readable = [f for f in group if f.image is not None]
            boxes = dict(zip(map(id, readable), detector([f.image for f in readable]), strict=True))
            jobs = [(f, b) for f in readable for b in boxes[id(f)]]
            faces = face_inputs(jobs)
            stacked = np.stack(faces) if faces else np.zeros((0, size, size), np.uint8)
            proba = classifier.proba(stacked)
            at = 0
            for f in group:
                rows = []
                for i, box in enumerate(boxes.get(id(f), [])):
                    p = proba[at]
                    at += 1
                    rows.append(
                        Row(
                            f.source,
                            f.frame,
                            f.time_s,
                            i,
                            box,
                            classifier.classes[int(p.argmax())],
                            dict(zip(classifier.classes, map(float, p), strict=True)),
                        )
                    )
                if not rows:
                    rows = [
                        Row(f.source, f.frame, f.time_s, None, None, None, note=f.note or NO_FACE)
                    ]
                yield f, rows
                if f.source not in done:
                    done.add(f.source)
                    bar.update()
