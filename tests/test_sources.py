"""The layout parsers on tiny real-layout fixtures (tests/layouts.py), quirks included."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from expressions.core.errors import DataError
from expressions.data.sources import LAYOUTS, Scan, scan
from expressions.data.sources.rafdb import NAMES
from helpers.layouts import (
    FED_CLASSES,
    OAHEGA_CLASSES,
    QUIRK_IMAGES,
    SYSTEM_LITTER,
    make_fed,
    make_folder,
    make_image,
    make_oahega,
    make_rafdb_kaggle,
    make_rafdb_original,
)

RAF_METADATA = {"train_labels.csv", "test_labels.csv", "list_patition_label.txt"}


def assert_accounted(root: Path, result: Scan, metadata: set[str] = frozenset()) -> None:
    """Every file under root is exactly one item or one skipped entry, label tables aside."""
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    items = [i.path for i in result.items]
    skipped = [s.path for s in result.skipped if s.reason != "missing file"]
    assert len(items) + len(skipped) == len(set(items) | set(skipped)), "a file is claimed twice"
    tables = {f for f in files if Path(f).name in metadata}
    assert set(items) | set(skipped) == files - tables
    assert items == sorted(items)


def reasons(result: Scan) -> Counter[str]:
    return Counter(s.reason for s in result.skipped)


def item_of(result: Scan, name: str):
    return next(i for i in result.items if Path(i.path).name == name)


@pytest.mark.parametrize("header", [True, False])
def test_rafdb_kaggle(tmp_path: Path, header: bool) -> None:
    root = make_rafdb_kaggle(tmp_path, per_label=2, header=header)
    result = scan("rafdb", root)
    assert len(result.items) == 2 * 7 * 2 + QUIRK_IMAGES
    assert {i.label for i in result.items} == set(NAMES.values())
    assert Counter(i.split for i in result.items) == {"train": 14 + QUIRK_IMAGES, "test": 14}
    happy = item_of(result, "train_40000_aligned.jpg")
    assert happy == type(happy)(
        "raf-db-dataset/DATASET/train/4/train_40000_aligned.jpg", "Happiness", "train"
    )
    assert item_of(result, "train_19991_aligned café.jpg").label == "Surprise"
    assert item_of(result, "train_19990_aligned.JPG").split == "train"
    assert reasons(result) == {"system file": SYSTEM_LITTER, "not an image": 1}
    assert_accounted(root, result, RAF_METADATA)


def test_rafdb_kaggle_csv_problems_are_reported_not_used(tmp_path: Path) -> None:
    root = make_rafdb_kaggle(tmp_path, quirks=False, top=None)
    table = root / "train_labels.csv"
    rows = table.read_text().replace("train_40000_aligned.jpg,4", "train_40000_aligned.jpg,5")
    rows = rows.replace("train_60001_aligned.jpg,6\n", "")
    table.write_text(rows + "train_38888_aligned.jpg,3\n")
    result = scan("rafdb", root)
    found = {s.path: s for s in result.skipped}
    clash = found["DATASET/train/4/train_40000_aligned.jpg"]
    assert clash.reason == "label disagreement"
    assert clash.detail == "folder says 4 (Happiness), train_labels.csv says 5 (Sadness)"
    assert found["DATASET/train/6/train_60001_aligned.jpg"].reason == "not in labels csv"
    assert found["DATASET/train/3/train_38888_aligned.jpg"].reason == "missing file"
    assert len(result.items) == 2 * 7 * 2 - 2
    assert "DATASET/train/4/train_40000_aligned.jpg" not in {i.path for i in result.items}
    assert_accounted(root, result, RAF_METADATA)


def test_rafdb_kaggle_without_csv_trusts_folders(tmp_path: Path) -> None:
    root = make_rafdb_kaggle(tmp_path, top="outer/raf-db-dataset")
    for table in root.rglob("*_labels.csv"):
        table.unlink()
    result = scan("rafdb", root)
    assert len(result.items) == 2 * 7 * 2 + QUIRK_IMAGES
    assert_accounted(root, result)


def test_rafdb_unknown_label_folder(tmp_path: Path) -> None:
    root = make_rafdb_kaggle(tmp_path, quirks=False, top=None)
    make_image(root / "DATASET" / "train" / "8" / "train_80000_aligned.jpg")
    result = scan("rafdb", root)
    assert {s.reason for s in result.skipped} == {"unknown label folder"}
    assert_accounted(root, result, RAF_METADATA)


@pytest.mark.parametrize("top", [None, "RAF-DB"])
def test_rafdb_original(tmp_path: Path, top: str | None) -> None:
    root = make_rafdb_original(tmp_path, per_label=2, top=top)
    result = scan("rafdb", root)
    assert len(result.items) == 2 * 7 * 2 + QUIRK_IMAGES
    assert {i.label for i in result.items} == set(NAMES.values())
    assert {i.split for i in result.items} == {"train", "test"}
    assert all("/basic/Image/aligned/" in f"/{i.path}" for i in result.items)
    assert item_of(result, "train_09991 café_aligned.jpg").label == "Happiness"
    assert item_of(result, "test_70001_aligned.jpg").label == "Neutral"
    assert reasons(result) == {
        "system file": SYSTEM_LITTER,
        "not an image": 1,
        "not used by this layout": 2,  # Image/original/ and Annotation/
    }
    assert_accounted(root, result, RAF_METADATA)


def test_rafdb_original_label_file_problems(tmp_path: Path) -> None:
    root = make_rafdb_original(tmp_path, quirks=False)
    table = root / "basic" / "EmoLabel" / "list_patition_label.txt"
    lines = table.read_text().replace("train_20000.jpg 2\n", "")
    table.write_text(lines + "test_58888.jpg 5\n")
    result = scan("rafdb", root)
    found = {s.path: s.reason for s in result.skipped}
    assert found["basic/Image/aligned/train_20000_aligned.jpg"] == "not in label file"
    assert found["basic/Image/aligned/test_58888_aligned.jpg"] == "missing file"
    assert_accounted(root, result, RAF_METADATA)


@pytest.mark.parametrize("top", ["emotion-recognition-dataset", None])
def test_oahega(tmp_path: Path, top: str | None) -> None:
    root = make_oahega(tmp_path, per_class=2, top=top)
    make_image(root / (top or ".") / "dataset" / "Contempt" / "x.png")
    result = scan("oahega", root)
    assert len(result.items) == 6 * 2 + QUIRK_IMAGES + 1
    assert {i.label for i in result.items} == {*OAHEGA_CLASSES, "Contempt"}
    assert {i.split for i in result.items} == {None}
    assert reasons(result) == {"system file": SYSTEM_LITTER, "not an image": 1}
    assert_accounted(root, result)


def test_oahega_csv_cross_check(tmp_path: Path) -> None:
    root = make_oahega(tmp_path, csv_table=True)
    table = root / "emotion-recognition-dataset" / "data.csv"
    rows = table.read_text().replace("angry0000.jpg,Angry", "angry0000.jpg,Sad")
    rows = rows.replace(",Happy", ",happiness")  # another spelling for a whole class is fine
    table.write_text(rows + "dataset/Sad/gone.jpg,Sad\n")
    result = scan("oahega", root)
    found = {s.path: s for s in result.skipped}
    clash = found["emotion-recognition-dataset/dataset/Angry/angry0000.jpg"]
    assert (clash.reason, clash.detail) == (
        "label disagreement",
        "folder says Angry, data.csv says Sad",
    )
    assert found["dataset/Sad/gone.jpg"].reason == "missing file"
    assert len(result.items) == 6 * 2 + QUIRK_IMAGES - 1
    assert {i.label for i in result.items} == set(OAHEGA_CLASSES)
    assert_accounted(root, result, {"data.csv"})


@pytest.mark.parametrize("split", [True, False])
def test_fed(tmp_path: Path, split: bool) -> None:
    root = make_fed(tmp_path, per_class=2, split=split)
    result = scan("fed2023", root)
    assert {i.label for i in result.items} == set(FED_CLASSES)
    per_split = 4 * 2 + QUIRK_IMAGES
    expected = {"train": per_split, "test": 4 * 2} if split else {None: per_split}
    assert Counter(i.split for i in result.items) == expected
    assert_accounted(root, result)


def test_split_folder_names_are_normalised(tmp_path: Path) -> None:
    root = make_folder(tmp_path, splits=("Training", "VALIDATION", "testing"), top="FED 2023")
    result = scan("fed2023", root)
    assert {i.split for i in result.items} == {"train", "val", "test"}
    assert {i.label for i in result.items} == {"happy", "sad"}


def test_folder_generic(tmp_path: Path) -> None:
    root = make_folder(tmp_path, classes=("Joy", "Grief"), quirks=False)
    make_image(root / "train" / "Joy" / "scan.bmp")
    make_image(root / "train" / "loose.png")  # a split folder is not a class
    make_image(root / "Joy" / "beside.png")  # beside the split folders: no split to give
    result = scan("folder", root)
    assert item_of(result, "scan.bmp").label == "Joy"
    found = {s.path: s.reason for s in result.skipped}
    assert found == {
        "train/loose.png": "not in a class folder",
        "Joy/beside.png": "outside split folders",
    }
    assert "scan.bmp" not in {Path(i.path).name for i in scan("fed2023", root).items}
    assert_accounted(root, result)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_layout_is_one_clear_sentence(tmp_path: Path, layout: str) -> None:
    (tmp_path / "README.txt").write_text("nothing here")
    with pytest.raises(DataError, match=r"^No .* layout under .*: expected .*\.$") as err:
        scan(layout, tmp_path)
    assert str(tmp_path) in str(err.value)


def test_dispatcher_rejects_unknown_layout_and_non_folders(tmp_path: Path) -> None:
    assert LAYOUTS == ("rafdb", "oahega", "fed2023", "folder")
    with pytest.raises(DataError, match="Unknown layout 'fer'"):
        scan("fer", tmp_path)
    with pytest.raises(DataError, match="is not a folder"):
        scan("rafdb", tmp_path / "raf.zip")
