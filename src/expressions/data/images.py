"""Decode, grayscale and resize a dataset's images in parallel, accounting for every file.

The study trains on grayscale faces of one size; doing that conversion once here (with
scikit-image, over all cores) means training never touches an image file again. `decode` and
`to_model_input` are also what `expressions predict` runs on a user's photo and face crops, so
training and prediction cannot drift apart.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps
from skimage import color, transform, util
from tqdm import tqdm

# Pillow modes that become RGB(A) before conversion, as image viewers show them.
_TO_RGB = {"1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa", "La"}


class UnreadableImage(Exception):
    """A file that is not a usable image; its message is the reason shown in the report."""


@dataclass(frozen=True)
class Cleaned:
    images: np.ndarray  # uint8 [n_ok, size, size]
    ok: list[int]  # positions in the input list that decoded
    failed: list[tuple[int, str, str]]  # (position, reason, detail)


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, gray+alpha, RGB, RGBA; 8 or 16 bit) as float grayscale in [0, 1]."""
    if image.ndim == 3 and image.shape[2] == 2:  # gray + alpha: composite like RGBA below
        image = image[..., [0, 0, 0, 1]]
    if (
        image.ndim == 3 and image.shape[2] == 4
    ):  # transparent areas become white, as viewers show them
        image = color.rgba2rgb(image)
    if image.ndim == 3 and image.shape[2] == 3:
        return color.rgb2gray(image)
    if image.ndim == 2:
        return util.img_as_float(image)
    raise UnreadableImage(f"unsupported image shape {image.shape}")


def header_size(source: Path | str | BinaryIO, frames: bool = False) -> tuple[int, int, int] | None:
    """(width, height, frames) from the file's header, nothing decoded; None where Pillow cannot
    identify the file (the decoder then says why). Raises Image.DecompressionBombError past
    Pillow's own ceiling, far above any limit of ours. `frames` counts a GIF's frames (it
    decodes to all of them at once), which walks the file: asked for only where it matters."""
    try:
        with warnings.catch_warnings():  # Pillow warns past its own limit: ours are lower
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
                return width, height, getattr(image, "n_frames", 1) if frames else 1
    except Image.DecompressionBombError:
        raise
    except Exception:  # Pillow raises many types for a file it cannot identify
        return None


def decode(path: Path | str) -> np.ndarray:
    """A file's pixels as an array (gray, gray+alpha, RGB or RGBA; 8 or 16 bit), upright.

    EXIF orientation is applied: phone photos store pixels sideways plus a tag saying so, and a
    face lying on its side is not what the model was trained on. Multi-frame files give frame 0.
    """
    return decode_reduced(path, None)[0]


def decode_reduced(path: Path | str, reduce_above: int | None) -> tuple[np.ndarray, int]:
    """As `decode`, but a JPEG of more than `reduce_above` pixels is decoded at 1/2, 1/4 or 1/8
    of its side (draft mode: the decoder skips the detail, several times faster and smaller);
    also returns the file's pixels per decoded pixel (1 when not reduced)."""
    try:
        with Image.open(path) as opened:
            scale = 1
            if reduce_above and opened.format == "JPEG":
                width, height = opened.size
                while scale < 8 and width * height / scale**2 > reduce_above:
                    scale *= 2
                if scale > 1:
                    opened.draft(opened.mode, (width // scale, height // scale))
                    scale = round(width / opened.size[0])
            image = ImageOps.exif_transpose(opened)
            if image.mode in _TO_RGB:
                transparent = "transparency" in image.info or image.mode in {"PA", "RGBa", "La"}
                image = image.convert("RGBA" if transparent else "RGB")
            if image.mode == "I":  # 32-bit integer pixels: 16-bit data in practice
                pixels = np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
            elif image.mode == "F":
                pixels = np.clip(np.asarray(image, np.float64), 0.0, 1.0)
            else:
                pixels = np.asarray(image)
            return pixels, scale
    except Exception as err:  # decoders raise many types; all mean "unreadable"
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UnreadableImage(f"unreadable: {first_line}") from None


def to_model_input(image: np.ndarray, size: int) -> np.ndarray:
    """Any decoded image or face crop as the size x size uint8 grayscale a model is fed.

    The one conversion shared by the clean stage (training data) and `expressions predict`.
    An 8-bit gray image already of that size comes back as it is: resizing it to its own size is
    the identity (tested), and skipping it halves the work for datasets stored at model size.
    """
    if image.dtype == np.uint8 and image.shape == (size, size):
        return image.copy()  # a new array, as resizing gives: callers may write to it
    gray = transform.resize(to_gray(image), (size, size), anti_aliasing=True)
    return np.clip(np.rint(gray * 255), 0, 255).astype(np.uint8)


def load_gray(path: Path, size: int, min_side: int) -> np.ndarray:
    """One file as a size x size uint8 grayscale image, or UnreadableImage saying why not."""
    image = decode(path)
    if image.ndim not in (2, 3) or min(image.shape[:2]) == 0:
        raise UnreadableImage(f"unsupported image shape {image.shape}")
    if min(image.shape[:2]) < min_side:
        raise UnreadableImage(f"too small: {image.shape[1]}x{image.shape[0]} px < {min_side} px")
    return to_model_input(image, size)


def _load_one(args: tuple[Path, int, int]) -> np.ndarray | str:
    try:
        return load_gray(*args)
    except UnreadableImage as err:
        return str(err)


def clean_files(
    paths: Sequence[Path], size: int, min_side: int, workers: int = 0, progress: bool = True
) -> Cleaned:
    """Decode `paths` with `workers` processes (0 = all cores), keeping input order."""
    workers = workers or os.cpu_count() or 1
    jobs = [(Path(p), size, min_side) for p in paths]
    bar = {
        "total": len(jobs),
        "desc": "clean",
        "unit": "img",
        "disable": not progress,
        "mininterval": 1,
    }
    if workers == 1 or len(jobs) < 64:  # a pool's start-up costs more than small jobs save
        results = [_load_one(job) for job in tqdm(jobs, **bar)]
    else:
        chunk = max(1, min(256, len(jobs) // (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(tqdm(pool.map(_load_one, jobs, chunksize=chunk), **bar))
    ok = [i for i, r in enumerate(results) if isinstance(r, np.ndarray)]
    failed = [(i, *_reason_detail(r)) for i, r in enumerate(results) if isinstance(r, str)]
    images = np.stack([results[i] for i in ok]) if ok else np.zeros((0, size, size), np.uint8)
    return Cleaned(images=images, ok=ok, failed=failed)


def _reason_detail(message: str) -> tuple[str, str]:
    """'unreadable: Truncated File Read' -> ('unreadable', 'Truncated File Read')."""
    reason, _, detail = message.partition(": ")
    return reason, detail
