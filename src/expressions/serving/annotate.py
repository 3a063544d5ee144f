"""--annotate DIR: the faces drawn on each photo (a PNG per photo) and on each video (an MP4 per
video: boxes, track ids and smoothed labels), named after the input's whole path
(photos/a/face.jpg -> DIR/photos__a__face.jpg.png, clips/talk.mp4 -> DIR/clips__talk.mp4.mp4)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from expressions.core.atomic import atomic_path
from expressions.core.errors import PredictionError
from expressions.serving.inputs import Frame
from expressions.serving.predict import Row


def annotated_name(source: str) -> str:
    """The file's whole path with / as __, suffix kept: a/face.jpg and a/face.png stay apart."""
    parts = [p for p in Path(source).parts if p not in (Path(source).anchor, "..", ".")]
    return "__".join(parts)


def check_annotate_folder(folder: Path) -> None:
    """--annotate DIR: a folder that is there or can be made, and written to; one sentence if not."""
    if folder.exists() and not folder.is_dir():
        raise PredictionError(f"--annotate {folder} is a file; give a folder for the drawn images")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".tmp-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise PredictionError(
            f"--annotate {folder}: cannot write there ({err.strerror or type(err).__name__})"
        ) from None


def drawn(frame: Frame, rows: list[Row]) -> Image.Image:
    """The picture with each face's box, track id (videos), class and probabilities on it."""
    image = Image.fromarray(frame.image).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(11, min(image.size) // 40))
    for row in rows:
        if row.box is None:
            continue
        b = row.box.scaled(1 / frame.scale)  # rows give file pixels; the image may be reduced
        draw.rectangle([b.x, b.y, b.x + b.w, b.y + b.h], outline=(255, 40, 40), width=2)
        who = "" if row.track is None else f"#{row.track} "
        text = f"{who}{row.predicted} {row.proba[row.predicted]:.2f}\n" + " ".join(
            f"{c[:3]} {p:.2f}" for c, p in row.proba.items()
        )
        _, _, width, height = draw.multiline_textbbox((0, 0), text, font=font)
        x = max(0, min(b.x, image.width - width - 2))  # labels stay inside the image
        y = b.y + b.h + 2 if b.y + b.h + 2 + height <= image.height else max(0, b.y - height - 4)
        draw.rectangle([x - 1, y - 1, x + width + 1, y + height + 3], fill=(0, 0, 0))
        draw.multiline_text((x, y), text, fill=(255, 255, 255), font=font)
    return image


def annotate(frame: Frame, rows: list[Row], out_dir: Path) -> Path:
    """A photo's drawing as out_dir/<name>.png."""
    target = out_dir / f"{annotated_name(frame.source)}.png"
    with atomic_path(target) as tmp:
        drawn(frame, rows).save(tmp, format="PNG")
    return target


class Annotations:
    """Where each drawing goes: photos to their PNG, a video's frames into one MP4 (OpenCV's
    mp4v), written under a temporary name and renamed into place when the video ends."""

    def __init__(self, out_dir: Path, every: int = 1) -> None:
        self.out_dir, self.every = out_dir, every
        self.source: str | None = None
        self.writer = None
        self.tmp: Path | None = None
        self.written: list[Path] = []

    def add(self, frame: Frame, rows: list[Row]) -> None:
        if frame.image is None:
            return
        if frame.frame is None:
            self.close()
            self.written.append(annotate(frame, rows, self.out_dir))
            return
        if frame.source != self.source:
            self._open(frame)
        import cv2

        image = np.asarray(drawn(frame, rows))  # RGB: drawn() converts
        self.writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

    def _open(self, frame: Frame) -> None:
        import cv2

        self.close()
        self.source = frame.source
        self.tmp = self.out_dir / f".tmp-{os.getpid()}-{annotated_name(frame.source)}.mp4"
        fps = (frame.fps or 30.0) / self.every  # the frames drawn, at their own pace
        h, w = frame.image.shape[:2]
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))

    def __enter__(self) -> Annotations:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.close()
        elif self.writer is not None:  # interrupted: no half video is left behind
            self.writer.release()
            self.tmp.unlink(missing_ok=True)

    def close(self) -> None:
        """Finish the video being written, if any, and move it into place."""
        if self.writer is None:
            return
        self.writer.release()
        target = self.out_dir / f"{annotated_name(self.source)}.mp4"
        os.replace(self.tmp, target)
        self.written.append(target)
        self.writer, self.source, self.tmp = None, None, None
