"""Images that used to decode wrong, silently (issue items 1-3): CMYK JPEGs, EXIF-rotated photos,
palette PNGs with a transparent colour, a GIF saved as .jpg. Each must come out as the picture a
viewer shows, through the one decode function the clean stage and `expressions predict` share."""

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from expressions.data.images import load_gray

SIZE = 48


def portrait() -> Image.Image:
    """A real photo with a clear up/down: scikit-image's astronaut, cropped to her face."""
    return Image.fromarray(data.astronaut()[0:256, 128:384])


def gray(path: Path) -> np.ndarray:
    return load_gray(path, SIZE, 16).astype(int)


def test_a_cmyk_jpeg_matches_its_rgb_encoding(tmp_path):
    rgb, cmyk = tmp_path / "rgb.jpg", tmp_path / "cmyk.jpg"
    portrait().save(rgb, quality=95)
    portrait().convert("CMYK").save(cmyk, quality=95)
    assert Image.open(cmyk).mode == "CMYK"
    a, b = gray(rgb), gray(cmyk)
    assert b.std() > 20  # a picture, not a uniform white square
    assert np.abs(a - b).mean() < 12


def test_exif_orientation_is_applied(tmp_path):
    upright, sideways = tmp_path / "upright.jpg", tmp_path / "sideways.jpg"
    portrait().save(upright, quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    portrait().transpose(Image.Transpose.ROTATE_90).save(sideways, quality=95, exif=exif)
    a, b = gray(upright), gray(sideways)
    assert np.abs(a - b).mean() < 6
    unrotated = np.asarray(Image.open(sideways).convert("L").resize((SIZE, SIZE)), int)
    assert np.abs(a - unrotated).mean() > 3 * np.abs(a - b).mean()  # the tag made the difference


def test_a_palette_png_with_a_transparent_colour_is_composited_on_white(tmp_path):
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., :3] = 40  # dark grey face...
    rgba[16:48, 16:48, 3] = 255  # ...opaque in the middle, transparent around it
    as_rgba, as_palette = tmp_path / "rgba.png", tmp_path / "palette.png"
    Image.fromarray(rgba).save(as_rgba)
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([0, 0, 0, 40, 40, 40] + [0] * 762)
    palette.paste(1, (16, 16, 48, 48))
    palette.save(as_palette, transparency=0)
    a, b = gray(as_rgba), gray(as_palette)
    assert b[0, 0] == 255 and b[SIZE // 2, SIZE // 2] < 60  # white where transparent
    assert np.abs(a - b).max() <= 2


def test_a_gif_saved_as_jpg_is_decoded_like_the_gif(tmp_path):
    gif, disguised = tmp_path / "face.gif", tmp_path / "face.jpg"
    portrait().convert("P").save(gif)
    disguised.write_bytes(gif.read_bytes())
    assert np.array_equal(gray(gif), gray(disguised))
    assert gray(disguised).std() > 20
