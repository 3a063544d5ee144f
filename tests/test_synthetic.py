"""The embedded synthetic datasets: real layouts, scaled counts, determinism, learnable faces."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.feature import hog
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from expressions.core.errors import DataError
from expressions.data.sources import scan
from expressions.data.synthetic import FED, OAHEGA, RAFDB, scaled, write_synthetic

RAF_NUMBERS = {label.folder: label.name for label in RAFDB}


def write(
    tmp_path: Path, layout: str, scale: float, seed: int = 7, name: str = ""
) -> tuple[Path, dict[str, int]]:
    """A fresh `tmp_path/<name or layout>` holding the layout, and the counts it reported."""
    root = tmp_path / (name or layout)
    root.mkdir()
    return root, write_synthetic(layout, root, scale, seed, progress=False)


def images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


def test_rafdb_kaggle_layout(tmp_path: Path) -> None:
    root, counts = write(tmp_path, "rafdb", 0.01)
    assert sorted(p.name for p in root.iterdir()) == [
        "DATASET",
        "test_labels.csv",
        "train_labels.csv",
    ]
    assert sorted(p.name for p in (root / "DATASET").iterdir()) == ["test", "train"]
    for split, digits in (("train", 5), ("test", 4)):
        folders = root / "DATASET" / split
        assert sorted(p.name for p in folders.iterdir()) == sorted(RAF_NUMBERS)
        with open(root / f"{split}_labels.csv", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["image", "label"]
        on_disk = {p.name: p.parent.name for p in folders.glob("*/*")}
        assert dict(rows[1:]) == on_disk  # every image listed once, with its folder's number
        numbers = sorted(
            int(re.fullmatch(rf"{split}_(\d{{{digits}}})_aligned\.jpg", n)[1]) for n in on_disk
        )
        assert numbers == list(range(1, len(numbers) + 1))  # one numbering across the split
        expected = {label.folder: scaled(label.counts[split], 0.01) for label in RAFDB}
        assert Counter(on_disk.values()) == expected
    assert counts == {
        label.name: sum(scaled(n, 0.01) for n in label.counts.values()) for label in RAFDB
    }
    for path in images(root)[::10]:
        with Image.open(path) as image:
            assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (100, 100))


def test_oahega_layout(tmp_path: Path) -> None:
    root, counts = write(tmp_path, "oahega", 0.01)
    assert [p.name for p in root.iterdir()] == ["dataset"]
    expected = {label.folder: scaled(label.counts[""], 0.01) for label in OAHEGA}
    assert Counter(p.parent.name for p in images(root)) == expected == counts
    assert {"Ahegao", "Angry", "Happy", "Neutral", "Sad", "Surprise"} == set(expected)
    assert len({p.name for p in images(root)}) == len(images(root))  # unique across classes
    suffixes, modes, shapes = Counter(), Counter(), set()
    for path in images(root):
        with Image.open(path) as image:
            assert image.format == ("PNG" if path.suffix.lower() == ".png" else "JPEG")
            assert 64 <= min(image.size) <= max(image.size) <= 256
            suffixes[path.suffix] += 1
            modes[image.mode] += 1
            shapes.add(image.size[0] == image.size[1])
    assert set(suffixes) == {".jpg", ".jpeg", ".png", ".JPG", ".PNG"}
    assert set(modes) == {"RGB", "L"} and modes["RGB"] > modes["L"]
    assert shapes == {True, False}


def test_fed2023_layout(tmp_path: Path) -> None:
    root, counts = write(tmp_path, "fed2023", 0.02)
    assert sorted(p.name for p in root.iterdir()) == ["test", "train"]
    for split in ("train", "test"):
        found = Counter(p.parent.name for p in images(root / split))
        assert found == {label.folder: scaled(label.counts[split], 0.02) for label in FED}
    assert set(counts) == {"Agree", "Think", "Confusion", "Aversion"}
    for path in images(root):
        with Image.open(path) as image:
            assert (image.format, image.mode, path.suffix) == ("JPEG", "RGB", ".jpg")
            assert 96 <= min(image.size) <= max(image.size) <= 160


@pytest.mark.parametrize(
    ("count", "scale", "expected"),
    [(4772, 0.25, 1193), (281, 0.01, 3), (74, 0.01, 2), (3, 0.0001, 2), (239, 1.0, 239)],
)
def test_scaled_counts_round_with_a_floor_of_two(count: int, scale: float, expected: int) -> None:
    assert scaled(count, scale) == expected


def test_a_tiny_scale_keeps_every_label_in_every_split(tmp_path: Path) -> None:
    root, counts = write(tmp_path, "fed2023", 1e-6)
    assert counts == {"Agree": 4, "Think": 4, "Confusion": 4, "Aversion": 4}
    assert Counter(p.parent.parent.name for p in images(root)) == {"train": 8, "test": 8}


@pytest.mark.parametrize(
    ("layout", "scale"), [("rafdb", 1e-6), ("oahega", 0.002), ("fed2023", 1e-6)]
)
def test_real_parsers_read_every_file(tmp_path: Path, layout: str, scale: float) -> None:
    root, counts = write(tmp_path, layout, scale)
    result = scan(layout, root)
    assert result.skipped == []
    assert Counter(item.label for item in result.items) == counts


def test_same_seed_same_bytes_other_seed_other_faces(tmp_path: Path) -> None:
    def contents(name: str, seed: int) -> dict[str, bytes]:
        root, _ = write(tmp_path, "oahega", 0.002, seed, name)
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }

    first, again, other = contents("a", 3), contents("b", 3), contents("c", 4)
    assert first == again
    assert set(first.values()).isdisjoint(other.values())


@pytest.mark.parametrize(
    ("layout", "scale", "message"),
    [
        ("ckplus", 0.1, "Unknown synthetic layout 'ckplus'"),
        ("rafdb", 0, "positive"),
        ("fed2023", -1.0, "positive"),
        ("oahega", float("nan"), "positive"),
    ],
)
def test_bad_arguments_raise_one_clear_sentence(
    tmp_path: Path, layout: str, scale: float, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        write_synthetic(layout, tmp_path, scale, 0, progress=False)
    assert not any(tmp_path.iterdir())


MERGED = {
    "Anger": "Angry",
    "Angry": "Angry",
    "Happiness": "Happy",
    "Happy": "Happy",
    "Neutral": "Neutral",
    "Agree": "Engaged",
    "Think": "Engaged",
}


def test_expressions_are_learnable_from_pixels(tmp_path: Path) -> None:
    """HOG + logistic regression on 48 px grayscale, trained on half of 30-160 faces per merged
    class and scored on the other half: well above chance (0.25), so the labels live in the
    faces. A linear model on so few faces is weak; the study's CNN does much better."""
    features, labels = [], []
    for layout, scale in (("rafdb", 0.02), ("oahega", 0.01), ("fed2023", 0.04)):
        root, _ = write(tmp_path, layout, scale)
        for item in scan(layout, root).items:
            if item.label in MERGED:
                with Image.open(root / item.path) as image:
                    pixels = image.convert("L").resize((48, 48), Image.Resampling.BILINEAR)
                features.append(hog(np.asarray(pixels), pixels_per_cell=(8, 8)))
                labels.append(MERGED[item.label])
    assert min(Counter(labels).values()) >= 30
    x, y = np.array(features), np.array(labels)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.5, stratify=y, random_state=0
    )
    model = LogisticRegression(C=0.1, class_weight="balanced", max_iter=500).fit(x_train, y_train)
    score = balanced_accuracy_score(y_test, model.predict(x_test))
    print(f"balanced accuracy on held-out faces: {score:.2f} (chance 0.25)")
    assert score > 0.45
