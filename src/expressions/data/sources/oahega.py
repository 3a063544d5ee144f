"""OAHEGA (Kaggle `sujaykapadnis/emotion-recognition-dataset`): `dataset/<Class>/<image>`.

Labels come from the class folders. The authors' code reads a `data.csv` (path,label) whose
presence in the Kaggle copy is unconfirmed, so when one is there it only cross-checks the folders.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path, PurePosixPath

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
    relative,
    subdirs,
)

CSV_NAME = "data.csv"


def scan(root: Path) -> Scan:
    anchor = find_anchor(root, _has_dataset_folder)
    if anchor is None:
        raise DataError(
            f"No OAHEGA layout under {root}: expected dataset/<Class>/ folders of images "
            "(e.g. dataset/Happy/)."
        )
    base = child(anchor, "dataset")
    assert base is not None  # found by _has_dataset_folder
    items, skipped = folder.classify(root, base, LAYOUT_SUFFIXES)
    table = child(anchor, CSV_NAME) or child(base, CSV_NAME)
    if table is None:
        return finish(root, items, skipped)
    skipped = [s for s in skipped if s.path != relative(table, root)]
    items, reported = _cross_check(items, _read_rows(table))
    return finish(root, items, skipped + reported, metadata=[table])


def _has_dataset_folder(candidate: Path) -> bool:
    found = child(candidate, "dataset")
    return found is not None and found.is_dir() and bool(subdirs(found))


def _read_rows(table: Path) -> list[tuple[str, str]]:
    with open(table, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = {name.strip().lower(): name for name in reader.fieldnames or []}
        if "path" not in columns or "label" not in columns:
            raise DataError(f"{table} has no path and label columns, so it cannot be checked.")
        return [
            (row[columns["path"]] or "", (row[columns["label"]] or "").strip()) for row in reader
        ]


def _key(path: str, depth: int) -> tuple[str, ...]:
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("", ".", "/")]
    return tuple(p.lower() for p in parts[-depth:])


def _cross_check(
    items: list[Item], rows: list[tuple[str, str]]
) -> tuple[list[Item], list[Skipped]]:
    """Keep the items data.csv agrees with; report the others, and rows that name no image."""
    said, missing = _match(items, rows)
    heard: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        if item.path in said:
            heard[item.label][said[item.path]] += 1
    names = {label: _csv_name(label, counts) for label, counts in heard.items()}
    odd = [i for i in items if i.path in said and said[i.path].lower() != names[i.label].lower()]
    reported = [Skipped(i.path, "label disagreement", _disagreement(i, said, names)) for i in odd]
    dropped = {i.path for i in odd}
    return [i for i in items if i.path not in dropped], missing + reported


def _match(items: list[Item], rows: list[tuple[str, str]]) -> tuple[dict[str, str], list[Skipped]]:
    """The CSV label of each item it lists, matched on `<Class>/<name>` or on a unique name."""
    names = Counter(_key(i.path, 1) for i in items)
    by_key = {_key(i.path, 2): i for i in items}
    by_key |= {_key(i.path, 1): i for i in items if names[_key(i.path, 1)] == 1}
    said: dict[str, str] = {}
    missing = []
    for path, label in rows:
        item = by_key.get(_key(path, 2)) or by_key.get(_key(path, 1))
        if item is None:
            detail = f"{CSV_NAME} lists it as {label!r} but there is no such image"
            missing.append(Skipped(path, "missing file", detail))
        else:
            said[item.path] = label
    return said, missing


def _csv_name(folder_label: str, counts: Counter[str]) -> str:
    """What the CSV calls a folder's class: the folder's own name when the CSV uses it at all,
    else its most frequent label there, so a CSV that merely spells classes differently
    ("Anger" for folder Angry) does not throw a whole class away."""
    if folder_label.lower() in {label.lower() for label in counts}:
        return folder_label
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _disagreement(item: Item, said: dict[str, str], names: dict[str, str]) -> str:
    detail = f"folder says {item.label}, {CSV_NAME} says {said[item.path]}"
    if names[item.label] != item.label:
        detail += f" (and {names[item.label]} for the rest of the folder)"
    return detail
