"""RAF-DB basic emotions, in either of its two distributions:

- Kaggle copy: `DATASET/<train|test>/<1..7>/<name>.jpg`, with `<split>_labels.csv` beside `DATASET/`;
- the authors' original: `basic/EmoLabel/list_patition_label.txt` (sic) naming the images of
  `basic/Image/aligned/` without their `_aligned` suffix.

Where the Kaggle copy carries labels twice (folder and CSV), an image whose two labels disagree is
reported and left out, since neither can be trusted over the other; so is an image its split's
CSV does not list. A split that comes with no CSV at all takes its labels from the folders.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from expressions.core.errors import DataError
from expressions.data.layouts import LAYOUT_SUFFIXES
from expressions.data.sources import folder
from expressions.data.sources.scan import (
    Item,
    Scan,
    Skipped,
    child,
    find_anchor,
    finish,
    reject,
    relative,
    subdirs,
    walk,
)

NAMES = {
    "1": "Surprise",
    "2": "Fear",
    "3": "Disgust",
    "4": "Happiness",
    "5": "Sadness",
    "6": "Anger",
    "7": "Neutral",
}
ORIGINAL_TABLE = ("basic", "EmoLabel", "list_patition_label.txt")
ALIGNED = ("basic", "Image", "aligned")
Table = dict[str, tuple[str, str]]  # lower-cased image name -> (name as written, label number)


def scan(root: Path) -> Scan:
    anchor = find_anchor(root, _has_kaggle_tree)
    if anchor is not None:
        return _scan_kaggle(root, anchor)
    anchor = find_anchor(root, lambda f: child(f, *ORIGINAL_TABLE) is not None)
    if anchor is not None:
        return _scan_original(root, anchor)
    raise DataError(
        f"No RAF-DB layout under {root}: expected DATASET/<train|test>/<1..7>/ "
        "or basic/EmoLabel/list_patition_label.txt."
    )


def _describe(number: str) -> str:
    return f"{number} ({NAMES.get(number, 'not a RAF-DB label')})"


def _has_kaggle_tree(anchor: Path) -> bool:
    data = child(anchor, "DATASET")
    return (
        data is not None and data.is_dir() and any(folder.split_of(s.name) for s in subdirs(data))
    )


def _read_table(path: Path) -> Table:
    """Image name -> label from `image,label` CSV rows (header optional) or `name label` lines."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        if path.suffix.lower() == ".csv":
            rows = [[cell.strip() for cell in row] for row in csv.reader(fh)]
        else:
            rows = [line.rsplit(None, 1) for line in fh]
    rows = [row for row in rows if any(row)]
    if rows and [cell.lower() for cell in rows[0]] == ["image", "label"]:
        rows = rows[1:]
    table: Table = {}
    for row in rows:
        if len(row) != 2:
            raise DataError(f"{path} has a row that is not 'image label': {' '.join(row)!r}.")
        table[Path(row[0]).name.lower()] = (Path(row[0]).name, row[1])
    return table


def _missing(
    table: Table, seen: set[str], where: Callable[[str, str], str], source: str
) -> list[Skipped]:
    """Rows of a label table with no image: reported under the path the image should have."""
    return [
        Skipped(where(name, number), "missing file", f"{source} lists it as {_describe(number)}")
        for key, (name, number) in table.items()
        if key not in seen
    ]


def _scan_kaggle(root: Path, anchor: Path) -> Scan:
    data = child(anchor, "DATASET")
    assert data is not None  # found by _has_kaggle_tree
    found, skipped = folder.classify(root, data, LAYOUT_SUFFIXES)
    split_dirs = {folder.split_of(s.name): s for s in subdirs(data) if folder.split_of(s.name)}
    paths = {split: p for split in split_dirs if (p := child(anchor, f"{split}_labels.csv"))}
    tables = {split: (p.name, _read_table(p)) for split, p in paths.items()}
    items: list[Item] = []
    for item in found:
        source, table = tables.get(item.split, ("", None))
        verdict = _check(item, table, source)
        (items if isinstance(verdict, Item) else skipped).append(verdict)
    for split, (source, table) in tables.items():
        seen = {Path(i.path).name.lower() for i in found if i.split == split}
        where = relative(split_dirs[split], root)
        skipped += _missing(table, seen, lambda n, k, w=where: f"{w}/{k}/{n}", source)
    return finish(root, items, skipped, metadata=paths.values())


def _check(item: Item, table: Table | None, source: str) -> Item | Skipped:
    """The Kaggle image with its label name, or why it cannot be used."""
    number = item.label
    if number not in NAMES:
        return Skipped(item.path, "unknown label folder", f"folder {number!r} is not one of 1..7")
    if table is None:
        return Item(item.path, NAMES[number], item.split)
    listed = table.get(Path(item.path).name.lower())
    if listed is None:
        return Skipped(item.path, "not in labels csv", f"{source} does not list it")
    if listed[1] != number:
        detail = f"folder says {_describe(number)}, {source} says {_describe(listed[1])}"
        return Skipped(item.path, "label disagreement", detail)
    return Item(item.path, NAMES[number], item.split)


def _scan_original(root: Path, anchor: Path) -> Scan:
    table_path = child(anchor, *ORIGINAL_TABLE)
    assert table_path is not None  # found by the anchor search
    table = _read_table(table_path)
    aligned = child(anchor, *ALIGNED) or anchor.joinpath(*ALIGNED)
    items: list[Item] = []
    skipped: list[Skipped] = []
    for path in walk(aligned):
        rel = relative(path, root)
        verdict = reject(rel, LAYOUT_SUFFIXES) or _label_original(rel, path.name, table)
        (items if isinstance(verdict, Item) else skipped).append(verdict)
    seen = {_unaligned(Path(i.path).name).lower() for i in items + skipped}
    where = relative(aligned, root)
    skipped += _missing(table, seen, lambda n, _: f"{where}/{_aligned(n)}", table_path.name)
    return finish(root, items, skipped, metadata=[table_path])


def _label_original(rel: str, name: str, table: Table) -> Item | Skipped:
    listed = table.get(_unaligned(name).lower())
    if listed is None:
        return Skipped(rel, "not in label file", f"{ORIGINAL_TABLE[-1]} does not list it")
    if listed[1] not in NAMES:
        return Skipped(rel, "unknown label", f"{ORIGINAL_TABLE[-1]} says {_describe(listed[1])}")
    split = next((s for s in ("train", "test") if name.lower().startswith(f"{s}_")), None)
    if split is None:
        return Skipped(rel, "unknown split", "the name starts with neither train_ nor test_")
    return Item(rel, NAMES[listed[1]], split)


def _unaligned(name: str) -> str:
    """`train_00001_aligned.jpg` -> `train_00001.jpg`, the name the label file uses."""
    stem, suffix = Path(name).stem, Path(name).suffix
    return f"{stem.removesuffix('_aligned')}{suffix}"


def _aligned(name: str) -> str:
    return f"{Path(name).stem}_aligned{Path(name).suffix}"
