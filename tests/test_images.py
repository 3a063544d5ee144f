"""Decoding, grayscale and resizing: every mode a real dataset ships, and every way a file fails."""

import numpy as np
import pytest
from PIL import Image
from skimage import transform

from expressions.data.images import (
    UnreadableImage,
    clean_files,
    load_gray,
    to_gray,
    to_model_input,
)


def save(path, mode, size=(60, 40), value=128):
    array = np.full((size[1], size[0], len(mode)) if len(mode) > 1 else (size[1], size[0]), value)
    if mode == "I;16":
        Image.fromarray(np.full((size[1], size[0]), value * 257, np.uint16)).save(path)
    else:
        if mode.endswith("A"):
            array[..., -1] = 255  # opaque: transparency is composited on white
        Image.fromarray(array.astype(np.uint8), mode=mode).save(path)
    return path


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [("L", ".png"), ("LA", ".png"), ("RGB", ".JPG"), ("RGBA", ".png"), ("I;16", ".png")],
)
def test_every_mode_becomes_square_uint8_gray(tmp_path, mode, suffix):
    image = load_gray(save(tmp_path / f"a{suffix}", mode), size=24, min_side=8)
    assert image.shape == (24, 24) and image.dtype == np.uint8
    assert abs(int(image.mean()) - 128) <= 2  # a flat mid-gray stays mid-gray in every mode


def test_transparent_pixels_become_white(tmp_path):
    array = np.zeros((32, 32, 2), np.uint8)  # black, fully transparent
    Image.fromarray(array, mode="LA").save(tmp_path / "clear.png")
    assert load_gray(tmp_path / "clear.png", 16, 8).min() == 255


def test_colour_is_weighted_like_luminance(tmp_path):
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(tmp_path / "red.png")
    assert abs(int(load_gray(tmp_path / "red.png", 16, 8).mean()) - round(0.2125 * 255)) <= 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"this is not an image", "unreadable"), (None, "unreadable"), ("small", "too small")],
)
def test_bad_files_say_why(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    if content is None:  # a JPEG cut short, as from an interrupted download
        save(path, "RGB", (64, 64))
        path.write_bytes(path.read_bytes()[:300])
    elif content == "small":
        save(path, "RGB", (10, 30))
    else:
        path.write_bytes(content)
    with pytest.raises(UnreadableImage, match=f"^{reason}: "):
        load_gray(path, size=24, min_side=16)


def test_parallel_cleaning_keeps_order_and_reports_failures(tmp_path):
    paths = []
    for i in range(80):
        paths.append(save(tmp_path / f"{i:03d}.png", "L", (30, 30), value=i * 3))
    paths[5].write_bytes(b"garbage")
    result = clean_files(paths, size=12, min_side=8, workers=2, progress=False)
    assert result.ok == [i for i in range(80) if i != 5]
    assert [(i, reason) for i, reason, _ in result.failed] == [(5, "unreadable")]
    assert result.images.shape == (79, 12, 12)
    assert [int(img.mean()) for img in result.images[:6]] == [0, 3, 6, 9, 12, 18]


def test_exif_orientation_is_applied_before_conversion(tmp_path):
    """A phone photo stored sideways with an Orientation tag comes out upright."""
    upright = np.zeros((40, 20), np.uint8)
    upright[:10] = 255  # white band at the top
    stored = np.rot90(upright, k=1)  # pixels as the camera wrote them: rotated 90 degrees
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(np.ascontiguousarray(stored)).save(tmp_path / "phone.jpg", exif=exif)
    image = load_gray(tmp_path / "phone.jpg", size=20, min_side=8)
    assert image[:4].mean() > 200 and image[-4:].mean() < 50


def test_an_image_already_at_model_size_is_what_resizing_it_would_give():
    """The shortcut for 48 px datasets must not change a single pixel of the training data."""
    image = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    resized = transform.resize(to_gray(image), (48, 48), anti_aliasing=True)
    assert np.array_equal(to_model_input(image, 48), np.rint(resized * 255).astype(np.uint8))
    assert to_model_input(image, 32).shape == (32, 32)
