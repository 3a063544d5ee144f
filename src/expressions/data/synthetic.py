"""The embedded default data: procedural faces written in each real dataset's on-disk layout.

With no network the real archives cannot be fetched, so `write_synthetic` writes stand-ins with
the same folders, file names, label numbering, file types and (scaled) class counts as RAF-DB,
OAHEGA and FED (see DATASETS.md). The real parsers then read them exactly as they read the real
downloads, and the whole pipeline runs end to end on a fresh machine.

Labels that name the same expression in two datasets (RAF-DB Anger and OAHEGA Angry, ...) share
one prototype, so the merged classes are coherent; prototypes of neighbouring expressions
overlap, so the task is learnable but not trivial.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from expressions.core.errors import DataError
from expressions.data import faces

PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {
        "mouth_w": 0.33,
        "mouth_curve": 0.13,
        "mouth_open": 0.1,
        "teeth": 0.9,
        "eye_open": 0.7,
        "brow_h": 0.03,
    },
    "angry": {
        "brow_tilt": 0.16,
        "brow_h": -0.08,
        "eye_open": 0.65,
        "mouth_curve": -0.08,
        "mouth_w": 0.2,
        "mouth_open": 0.03,
    },
    "surprise": {"brow_h": 0.14, "eye_open": 1.55, "mouth_open": 0.3, "mouth_w": 0.16},
    "fear": {
        "brow_h": 0.09,
        "brow_tilt": -0.1,
        "eye_open": 1.4,
        "mouth_w": 0.32,
        "mouth_open": 0.1,
        "mouth_curve": -0.05,
        "teeth": 0.7,
    },
    "disgust": {
        "brow_tilt": 0.07,
        "brow_h": -0.04,
        "eye_open": 0.65,
        "mouth_curve": -0.08,
        "mouth_skew": 0.06,
        "mouth_open": 0.04,
    },
    "sad": {
        "brow_tilt": -0.12,
        "eye_open": 0.75,
        "mouth_curve": -0.12,
        "gaze_y": 0.5,
        "pitch": 0.3,
    },
    "ahegao": {
        "eye_open": 1.2,
        "gaze_y": -1.5,
        "mouth_open": 0.36,
        "mouth_w": 0.23,
        "tongue": 1.0,
        "brow_h": 0.1,
        "brow_tilt": -0.06,
    },
    "agree": {
        "mouth_w": 0.29,
        "mouth_curve": 0.09,
        "eye_open": 0.85,
        "roll": 20.0,
        "pitch": 0.6,
        "gaze_y": 0.3,
    },
    "think": {
        "gaze_x": 1.4,
        "gaze_y": -0.7,
        "mouth_w": 0.11,
        "mouth_open": 0.06,
        "mouth_dx": 0.1,
        "brow_asym": 0.15,
        "roll": 5.0,
    },
    "confusion": {
        "brow_asym": 0.1,
        "brow_tilt": 0.04,
        "mouth_curve": -0.05,
        "mouth_skew": 0.05,
        "roll": 8.0,
    },
    "aversion": {
        "yaw": 0.7,
        "gaze_x": 0.9,
        "mouth_curve": -0.08,
        "brow_tilt": 0.04,
        "eye_open": 0.85,
    },
}
INTENSITY = (0.5, 1.2)  # how strongly a face shows its label's prototype


@dataclass(frozen=True)
class Label:
    name: str  # the dataset's own label name
    folder: str  # its folder on disk
    counts: dict[str, int]  # real images per split ("" when the dataset ships no split)
    prototype: str


def _labels(rows: list[tuple], splits: tuple[str, ...]) -> tuple[Label, ...]:
    return tuple(
        Label(name, folder, dict(zip(splits, counts, strict=True)), proto)
        for name, folder, *counts, proto in rows
    )


RAFDB = _labels(
    [
        ("Surprise", "1", 1290, 329, "surprise"),
        ("Fear", "2", 281, 74, "fear"),
        ("Disgust", "3", 717, 160, "disgust"),
        ("Happiness", "4", 4772, 1185, "happy"),
        ("Sadness", "5", 1982, 478, "sad"),
        ("Anger", "6", 705, 162, "angry"),
        ("Neutral", "7", 2524, 680, "neutral"),
    ],
    ("train", "test"),
)
OAHEGA = _labels(
    [
        ("Ahegao", "Ahegao", 1205, "ahegao"),
        ("Angry", "Angry", 1313, "angry"),
        ("Happy", "Happy", 3740, "happy"),
        ("Neutral", "Neutral", 4027, "neutral"),
        ("Sad", "Sad", 3934, "sad"),
        ("Surprise", "Surprise", 1234, "surprise"),
    ],
    ("",),
)
FED = _labels(
    [
        ("Agree", "Agree", 239, 189, "agree"),
        ("Think", "Think", 272, 160, "think"),
        ("Confusion", "Confusion", 296, 214, "confusion"),
        ("Aversion", "Aversion", 394, 238, "aversion"),
    ],
    ("train", "test"),
)
LAYOUTS = {"rafdb": RAFDB, "oahega": OAHEGA, "fed2023": FED}
OAHEGA_SUFFIXES = (".jpg", ".jpeg", ".png", ".JPG", ".PNG")
OAHEGA_SUFFIX_SHARE = (0.55, 0.15, 0.2, 0.06, 0.04)


@dataclass(frozen=True)
class Job:
    """One image to write: where, showing what, at which size, in which colour mode."""

    path: str  # relative to the dataset root; the suffix picks the file type
    label: Label
    size: tuple[int, int]
    gray: bool = False


def write_synthetic(
    layout: str, root: Path, scale: float, seed: int, progress: bool = True
) -> dict[str, int]:
    """Write dataset `layout` ("rafdb" | "oahega" | "fed2023") under the (existing, empty) folder
    `root`; return images written per original label name."""
    if layout not in LAYOUTS:
        raise DataError(
            f"Unknown synthetic layout {layout!r}: expected one of {', '.join(LAYOUTS)}."
        )
    if not scale > 0:
        raise DataError(
            f"The synthetic scale must be a positive fraction of the real counts, not {scale}."
        )
    # One stream per layout, so adding a dataset never changes another's images.
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(list(LAYOUTS).index(layout),))
    )
    jobs = PLANNERS[layout](scale, rng)
    noise = faces.noise_bank(rng)
    for job in tqdm(jobs, desc=f"synthetic {layout}", unit="img", disable=not progress):
        _write(root / job.path, job, rng, noise, aligned=layout == "rafdb")
    if layout == "rafdb":
        _write_label_tables(root, jobs)
    return dict(Counter(job.label.name for job in jobs))


def scaled(count: int, scale: float) -> int:
    """Real count times scale, rounded half up, never below 2 so every split keeps every label."""
    return max(2, int(np.floor(count * scale + 0.5)))


def _shuffled(
    labels: tuple[Label, ...], split: str, scale: float, rng: np.random.Generator
) -> list[Label]:
    """A split's labels in random order, as the real sets number images across classes."""
    order = [label for label in labels for _ in range(scaled(label.counts[split], scale))]
    return [order[i] for i in rng.permutation(len(order))]


def _plan_rafdb(scale: float, rng: np.random.Generator) -> list[Job]:
    jobs = []
    for split, digits in (("train", 5), ("test", 4)):
        for number, label in enumerate(_shuffled(RAFDB, split, scale, rng), start=1):
            name = f"{split}_{number:0{digits}d}_aligned.jpg"
            jobs.append(Job(f"DATASET/{split}/{label.folder}/{name}", label, (100, 100)))
    return jobs


def _plan_oahega(scale: float, rng: np.random.Generator) -> list[Job]:
    jobs = []
    for number, label in enumerate(_shuffled(OAHEGA, "", scale, rng), start=1):
        suffix = OAHEGA_SUFFIXES[rng.choice(len(OAHEGA_SUFFIXES), p=OAHEGA_SUFFIX_SHARE)]
        side = int(rng.integers(64, 257))
        aspect = 1.0 if rng.random() < 0.7 else rng.uniform(0.75, 1.33)
        size = (side, int(np.clip(round(side * aspect), 64, 256)))
        path = f"dataset/{label.folder}/img_{number:05d}{suffix}"
        jobs.append(Job(path, label, size, gray=bool(rng.random() < 0.12)))
    return jobs


def _plan_fed(scale: float, rng: np.random.Generator) -> list[Job]:
    jobs = []
    for split in ("train", "test"):
        for number, label in enumerate(_shuffled(FED, split, scale, rng), start=1):
            side = int(rng.integers(96, 161))
            jobs.append(
                Job(f"{split}/{label.folder}/{split}_{number:04d}.jpg", label, (side, side))
            )
    return jobs


def _write_label_tables(root: Path, jobs: list[Job]) -> None:
    """RAF-DB's Kaggle copy repeats each image's folder number in `<split>_labels.csv`."""
    for split in ("train", "test"):
        with open(root / f"{split}_labels.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["image", "label"])
            for job in sorted(jobs, key=lambda j: j.path.rsplit("/", 1)[-1]):
                if job.path.startswith(f"DATASET/{split}/"):
                    writer.writerow([job.path.rsplit("/", 1)[-1], job.label.folder])


PLANNERS = {"rafdb": _plan_rafdb, "oahega": _plan_oahega, "fed2023": _plan_fed}


def _write(
    path: Path, job: Job, rng: np.random.Generator, noise: Image.Image, aligned: bool
) -> None:
    params = faces.expression(PROTOTYPES[job.label.prototype], rng, INTENSITY)
    image = faces.render(job.size, params, rng, aligned, noise)
    if job.gray:
        image = image.convert("L")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        image.save(path, format="PNG", compress_level=1)
    else:
        image.save(path, format="JPEG", quality=int(rng.integers(75, 96)))
