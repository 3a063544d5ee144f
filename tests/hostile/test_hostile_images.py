"""Images too large to decode (issue 12, item 7): the pixel count is read from the header and an
image over data.limits.megapixels is skipped with one sentence, before any decoder allocates it,
and the dataset's counts still add up."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image

from expressions.data.cleaning import clean_dataset, oversized
from helpers.layouts import make_folder


def png_header_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says width x height but whose data is a few bytes: what a decompression
    bomb looks like to the header check (the 13000 x 13000 case), without the gigabytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
    data += struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    path.write_bytes(data)
    return path


def test_a_13000_px_square_is_skipped_by_its_header_naming_the_param(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "mine", quirks=False)
    bomb = png_header_claiming(root / "train" / "happy" / "bomb.png", 13_000, 13_000)
    result = clean_dataset("mine", "folder", root, 16, 8, workers=1, progress=False)
    report = result.report
    assert report["files"] == report["skipped"] + report["decoded"] == 9
    (skip,) = report["skipped_files"]
    assert skip["path"] == bomb.relative_to(root).as_posix() and skip["reason"] == "too large"
    assert skip["detail"] == (
        "13000x13000 px (169 megapixels) is more than data.limits.megapixels (25); "
        "raise it to keep this image"
    )
    assert len(result.images) == len(result.index) == 8


def test_the_limit_is_a_param_every_image_is_measured_against(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "mine", quirks=False)  # 32 x 32 images: 1,024 px each
    report = clean_dataset(
        "mine", "folder", root, 16, 8, workers=1, progress=False, megapixels=0.001
    ).report
    assert report["decoded"] == 0 and report["skipped_by_reason"] == {"too large": 8}
    assert report["files"] == report["skipped"] + report["decoded"]


def test_every_frame_of_an_animation_counts(tmp_path: Path) -> None:
    frames = [Image.new("L", (100, 100), v) for v in (0, 80, 160, 240)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    assert oversized(gif, 0.03) == (
        "100x100 px x 4 frames (0.04 megapixels) is more than data.limits.megapixels (0.03); "
        "raise it to keep this image"
    )
    assert oversized(gif, 0.05) is None


def test_a_file_pil_cannot_identify_is_left_to_the_decoder(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    assert oversized(junk, 50) is None
