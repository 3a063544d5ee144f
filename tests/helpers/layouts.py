"""Tiny copies of each real dataset layout, built in code, for the parsers' and pipeline's tests.

Every builder writes real (small, random, all different) JPEG/PNG files under `root` and returns
`root`, the folder to hand to `scan()` or to zip. With `quirks=True` it also adds what real
archives carry, in the first class folder it writes:

- two extra usable images (QUIRK_IMAGES): one with an upper-case suffix, one whose name has a
  space and non-ASCII letters; label tables list them like any other image;
- litter the parsers must skip as "system file": a `__MACOSX/` mirror, a `._<image>` resource
  fork, `.DS_Store` and `Thumbs.db`;
- `notes.txt`, which they must skip as "not an image".
"""

from __future__ import annotations

import csv
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

RAF_NUMBERS = ("1", "2", "3", "4", "5", "6", "7")
OAHEGA_CLASSES = ("Ahegao", "Angry", "Happy", "Neutral", "Sad", "Surprise")
FED_CLASSES = ("Agree", "Think", "Confusion", "Aversion")
QUIRK_IMAGES = 2
SYSTEM_LITTER = 4  # "system file"s per quirky tree: __MACOSX copy, ._x, .DS_Store, Thumbs.db
Record = tuple[Path, str | None, str]  # image path, split (None if none), label
Namer = Callable[[str | None, str, int], str]  # (split, label, index) -> file name


def make_image(path: Path, side: int = 32) -> Path:
    """A random RGB image in the format its suffix names; the seed is its path, so content is
    stable across runs and differs between files (no accidental duplicates)."""
    seed = zlib.crc32("/".join(path.parts[-3:]).encode())
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def make_folder(
    root: Path,
    classes: Sequence[str] = ("happy", "sad"),
    per_class: int = 2,
    splits: Sequence[str] | None = ("train", "test"),
    quirks: bool = True,
    suffix: str = ".png",
    top: str | None = None,
) -> Path:
    """`root[/top][/<split>]/<class>/<class>_<i><suffix>`: the generic folder layout."""
    _build_tree(root, top, splits, classes, per_class, lambda s, c, i: f"{c}_{i}{suffix}", quirks)
    return root


def make_fed(
    root: Path, per_class: int = 2, split: bool = True, quirks: bool = True, top: str | None = None
) -> Path:
    """FED: class folders (Agree, Think, Confusion, Aversion), optionally under train/ and test/."""
    splits = ("train", "test") if split else None
    return make_folder(root, FED_CLASSES, per_class, splits, quirks, ".jpg", top)


def make_oahega(
    root: Path,
    per_class: int = 2,
    top: str | None = "emotion-recognition-dataset",
    csv_table: bool = False,
    quirks: bool = True,
) -> Path:
    """OAHEGA: `[top/]dataset/<Class>/`; with `csv_table`, a `data.csv` (path,label) beside
    `dataset/` that agrees with the folders."""
    base = f"{top}/dataset" if top else "dataset"
    records = _build_tree(
        root,
        base,
        None,
        OAHEGA_CLASSES,
        per_class,
        lambda s, c, i: f"{c.lower()}{i:04d}.jpg",
        quirks,
    )
    if csv_table:
        anchor = root / top if top else root
        rows = [(path.relative_to(anchor).as_posix(), label) for path, _, label in records]
        _write_csv(anchor / "data.csv", ("path", "label"), rows)
    return root


def make_rafdb_kaggle(
    root: Path,
    per_label: int = 2,
    header: bool = True,
    quirks: bool = True,
    top: str | None = "raf-db-dataset",
) -> Path:
    """RAF-DB's Kaggle copy: `[top/]DATASET/<train|test>/<1..7>/<split>_<n>_aligned.jpg` with
    `train_labels.csv` / `test_labels.csv` (image,label; `header` writes that first row)."""
    anchor = root / top if top else root
    base = f"{top}/DATASET" if top else "DATASET"
    records = _build_tree(root, base, ("train", "test"), RAF_NUMBERS, per_label, _raf_name, quirks)
    for split in ("train", "test"):
        rows = [(p.name, label) for p, s, label in records if s == split]
        _write_csv(anchor / f"{split}_labels.csv", ("image", "label") if header else None, rows)
    return root


def make_rafdb_original(
    root: Path, per_label: int = 2, quirks: bool = True, top: str | None = None
) -> Path:
    """RAF-DB as the authors send it: `basic/EmoLabel/list_patition_label.txt` naming the images
    of `basic/Image/aligned/` without `_aligned`, plus the `Image/original/` and `Annotation/`
    trees the parser must leave alone."""
    basic = (root / top if top else root) / "basic"
    aligned = basic / "Image" / "aligned"
    lines = []
    for split in ("train", "test"):
        for label in RAF_NUMBERS:
            for i in range(per_label):
                name = _raf_name(split, label, i)
                make_image(aligned / name)
                lines.append(f"{name.replace('_aligned', '')} {label}")
    make_image(basic / "Image" / "original" / "train_00000.jpg", side=48)
    _write_text(basic / "Annotation" / "manual" / "train_00000_manu_attri.txt", "12 34\n")
    if quirks:
        names = ("train_09990_aligned.JPG", "train_09991 café_aligned.jpg")
        _add_quirks(root, aligned, names)
        lines += [f"{n.replace('_aligned', '')} 4" for n in names]
    _write_text(basic / "EmoLabel" / "list_patition_label.txt", "\n".join(lines) + "\n")
    return root


def zip_tree(folder: Path, archive: Path) -> Path:
    """Zip everything under `folder` with paths relative to it (as `zip -r` run inside it)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, path.relative_to(folder).as_posix())
    return archive


def tar_tree(folder: Path, archive: Path) -> Path:
    """A .tar.gz of everything under `folder`, paths relative to it."""
    with tarfile.open(archive, "w:gz") as tf:
        for path in sorted(folder.iterdir()):
            tf.add(path, arcname=path.name)
    return archive


def _raf_name(split: str | None, label: str, index: int) -> str:
    return f"{split}_{label}{index:04d}_aligned.jpg"  # like train_00012_aligned.jpg, unique


def _build_tree(
    root: Path,
    base: str | None,
    splits: Sequence[str] | None,
    classes: Sequence[str],
    per_class: int,
    namer: Namer,
    quirks: bool,
) -> list[Record]:
    """Write `root[/base][/<split>]/<class>/<name>`; return every image written."""
    anchor = root / base if base else root
    records: list[Record] = []
    for split in splits or [None]:
        for label in classes:
            folder = anchor / split / label if split else anchor / label
            for i in range(per_class):
                records.append((make_image(folder / namer(split, label, i)), split, label))
    if quirks:
        split, label = (splits[0] if splits else None), classes[0]
        folder = anchor / split / label if split else anchor / label
        upper, spaced = Path(namer(split, label, 9990)), Path(namer(split, label, 9991))
        names = (upper.stem + upper.suffix.upper(), f"{spaced.stem} café{spaced.suffix}")
        added = _add_quirks(root, folder, names)
        records += [(path, split, label) for path in added]
    return records


def _add_quirks(root: Path, folder: Path, names: Sequence[str]) -> list[Path]:
    """Write the quirky images `names` into `folder`, plus the litter real archives carry."""
    added = [make_image(folder / name) for name in names]
    first = next(p for p in sorted(folder.iterdir()) if p.name not in names)
    (folder / f"._{first.name}").write_bytes(b"\x00\x05\x16\x07 resource fork")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "notes.txt").write_text("collected by hand\n", encoding="utf-8")
    mirror = root / "__MACOSX" / folder.relative_to(root) / f"._{first.name}"
    mirror.parent.mkdir(parents=True, exist_ok=True)
    mirror.write_bytes(b"\x00\x05\x16\x07")
    return added


def _write_csv(path: Path, header: tuple[str, str] | None, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
