"""What every layout parser returns, and the helpers they share to walk a raw dataset tree.

A parser never drops a file silently: whatever it does not turn into an Item is a Skipped with a
short, groupable reason, so the data report can say exactly why counts differ from the paper's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

SYSTEM_NAMES = frozenset({"thumbs.db", "desktop.ini"})
SYSTEM_DIRS = frozenset({"__macosx"})
SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "test": "test",
    "testing": "test",
    "val": "val",
    "valid": "val",
    "validation": "val",
}
NOT_USED = "not used by this layout"


@dataclass(frozen=True)
class Item:
    path: str  # posix path relative to the dataset root
    label: str  # the dataset's original label name
    split: str | None  # "train" | "val" | "test", or None when the dataset ships no split


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to root
    reason: str  # short and groupable: "system file", "not an image", "label disagreement", ...
    detail: str = ""


@dataclass
class Scan:
    items: list[Item]
    skipped: list[Skipped]


def walk(folder: Path) -> list[Path]:
    """Every file under `folder`, in a stable order; symlinked folders are not entered."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(Path(current, name) for name in sorted(files))
    return found


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def is_system(rel: str) -> bool:
    """Archive litter that can look like data (`._x.jpg` resource forks, `__MACOSX/` trees).

    Hidden files and folders count too (`.DS_Store`, `.ipynb_checkpoints/`): no layout has them.
    """
    parts = rel.split("/")
    if any(part.startswith(".") or part.lower() in SYSTEM_DIRS for part in parts):
        return True
    return parts[-1].lower() in SYSTEM_NAMES


def reject(rel: str, suffixes: Iterable[str]) -> Skipped | None:
    """The checks every layout makes before it looks at labels."""
    if is_system(rel):
        return Skipped(rel, "system file")
    if Path(rel).suffix.lower() not in suffixes:
        return Skipped(rel, "not an image", f"suffix {Path(rel).suffix or '(none)'!r}")
    return None


def child(folder: Path, *names: str) -> Path | None:
    """`folder/names[0]/names[1]/...`, ignoring letter case (archives differ in spelling)."""
    for name in names:
        exact = folder / name
        if exact.exists():
            folder = exact
            continue
        if not folder.is_dir():
            return None
        found = [p for p in sorted(folder.iterdir()) if p.name.lower() == name.lower()]
        if not found:
            return None
        folder = found[0]
    return folder


def subdirs(folder: Path) -> list[Path]:
    """Child folders worth searching: no `__MACOSX`, no hidden folders."""
    return [
        p
        for p in sorted(folder.iterdir())
        if p.is_dir() and not p.name.startswith(".") and p.name.lower() not in SYSTEM_DIRS
    ]


def find_anchor(root: Path, found: Callable[[Path], bool], depth: int = 2) -> Path | None:
    """The shallowest folder at most `depth` levels below `root` for which `found` holds.

    Real archives wrap the layout in one or two extra folders (`raf-db-dataset/DATASET/...`).
    """
    level = [root]
    for steps_left in reversed(range(depth + 1)):
        hit = next((folder for folder in level if found(folder)), None)
        if hit is not None or not steps_left:
            return hit
        level = [sub for folder in level for sub in subdirs(folder)]
    return None


def finish(
    root: Path, items: list[Item], skipped: list[Skipped], metadata: Iterable[Path] = ()
) -> Scan:
    """Account for every file under `root` the parser did not claim, then sort both lists.

    `metadata` are the layout's own label files: not images, so neither items nor skipped.
    """
    claimed = {i.path for i in items} | {s.path for s in skipped}
    claimed |= {relative(m, root) for m in metadata}
    everything = [relative(path, root) for path in walk(root)]
    rest = [
        Skipped(rel, "system file" if is_system(rel) else NOT_USED)
        for rel in everything
        if rel not in claimed
    ]
    return Scan(
        sorted(items, key=lambda i: i.path),
        sorted(skipped + rest, key=lambda s: (s.path, s.reason)),
    )
