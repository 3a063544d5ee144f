"""Reading what `expressions predict` and `serve` are given: image files, folders (recursively)
and videos, as Frames. Images are decoded in parallel and in order; a file that cannot be read,
or one named directly that is not an image or a video, becomes a Frame whose note says why, so it
gets its row. A photo over the pixel limit is refused from its header, before decoding; a large
JPEG is decoded reduced (Pillow's draft mode), which the detector does not miss, and its boxes
are given in the file's own pixels.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from expressions.data.images import (
    UnreadableImage,
    decode_reduced,
    header_size,
    to_model_input,
)
from expressions.data.limits import MAX_MEGAPIXELS

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".webm", ".mkv"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm"}
IMAGE_SUFFIXES |= {".ppm", ".pbm", ".pnm", ".jfif", ".jpe", ".ico", ".tga", ".jp2"}
MAX_PIXELS = round(MAX_MEGAPIXELS * 1e6)  # --max-megapixels' default, as the server's limit
REDUCED_PIXELS = 12_000_000  # a larger JPEG is decoded at 1/2, 1/4 or 1/8 of its side


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
    scale: int = 1  # the file's pixels per decoded pixel (draft mode), for boxes in file pixels
    fps: float | None = None  # a video's frames per second, as its file states them


@dataclass(frozen=True)
class Expanded:
    files: list[Path]
    skipped: int  # files in the folders that are neither images nor videos (readme.txt)


def media(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES


def expand(inputs: Sequence[str | Path]) -> Expanded:
    """Files as given (each gets its row, even one that is no image); folders recursively,
    sorted, their images and videos only: hidden files (`.DS_Store`) and others (`notes.txt`)
    are left out and counted."""
    files: list[Path] = []
    skipped = 0
    for item in map(Path, inputs):
        if item.is_dir():
            found = [p for p in item.rglob("*") if p.is_file() and not p.name.startswith(".")]
            files.extend(sorted(p for p in found if media(p)))
            skipped += sum(not media(p) for p in found)
        else:
            files.append(item)
    return Expanded(files, skipped)


def oversized(path: Path, max_pixels: int) -> str:
    """Why a file is refused from its header alone ('' when it is not): over the pixel limit."""
    try:
        size = header_size(path)
    except Image.DecompressionBombError:
        return "refused: more pixels than can be decoded safely"
    if size is None or size[0] * size[1] <= max_pixels:  # unknown to Pillow: decode() says why
        return ""
    width, height, _ = size
    return (
        f"refused: {width}x{height} pixels ({width * height / 1e6:.3g} megapixels), over "
        f"--max-megapixels {max_pixels / 1e6:g}"
    )


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


def read_image(path: Path, max_pixels: int = MAX_PIXELS, reduce: bool = True) -> Frame:
    """A photo, refused over `max_pixels`; with `reduce`, a JPEG over REDUCED_PIXELS is decoded
    at a fraction of its side (frame.scale says which)."""
    if not path.exists():
        return Frame(str(path), None, note="not found")
    refused = oversized(path, max_pixels)
    if refused:
        return Frame(str(path), None, note=refused)
    try:
        raw, scale = decode_reduced(path, REDUCED_PIXELS if reduce else None)
        return Frame(str(path), _as_uint8(raw), raw=raw, scale=scale)
    except UnreadableImage as err:
        return Frame(str(path), None, note=str(err))


def read_whole(path: Path, size: int, max_pixels: int = MAX_PIXELS) -> Frame:
    """An image that is one face (`--detector none`): decoded and made model input at once."""
    frame = read_image(path, max_pixels, reduce=False)
    if frame.raw is not None:
        frame.whole = to_model_input(frame.raw, size)
        frame.raw = None  # not needed any more; no need to ship it back from a process either
    return frame


def video_header(path: Path) -> tuple[int, float, int, int] | None:
    """Frame count, frames/s, width and height as the file states them (0 where it states
    none); None where OpenCV cannot open it, or is not installed."""
    try:
        import cv2
    except ImportError:
        return None
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return None
        count, fps, width, height = (
            capture.get(k) or 0
            for k in (
                cv2.CAP_PROP_FRAME_COUNT,
                cv2.CAP_PROP_FPS,
                cv2.CAP_PROP_FRAME_WIDTH,
                cv2.CAP_PROP_FRAME_HEIGHT,
            )
        )
    finally:
        capture.release()
    return int(count), float(fps), int(width), int(height)


def video_frames(path: Path, every: int) -> int:
    """How many frames `read_video` will give, from the header (1: the row of one unreadable)."""
    header = video_header(path)
    return max(1, -(-header[0] // every)) if header else 1


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
                    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # 0.1 ms a frame, numpy's copy 3 ms
                    yield Frame(str(path), rgb, index, time_s, fps=fps or None)
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
