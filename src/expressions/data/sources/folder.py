"""The generic `[<split>/]<label>/<image>` layout: a user's own dataset, and the core of FED and
OAHEGA, which are this layout with their own anchor and file types.

Label names are folder names exactly as spelled; mapping them to classes is the label map's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from expressions.core.errors import DataError
from expressions.data.layouts import IMAGE_SUFFIXES
from expressions.data.sources.scan import (
    SPLIT_NAMES,
    Item,
    Scan,
    Skipped,
    find_anchor,
    finish,
    is_system,
    reject,
    relative,
    subdirs,
    walk,
)


def split_of(name: str) -> str | None:
    """ "train" | "val" | "test" for a folder named like a split (any case), else None."""
    return SPLIT_NAMES.get(name.lower())


def scan(root: Path, suffixes: Iterable[str] = IMAGE_SUFFIXES, name: str = "image-folder") -> Scan:
    """Scan `root` as a folder dataset; `name` is how the error message calls the layout."""
    suffixes = frozenset(suffixes)
    base = find_anchor(root, lambda folder: _is_base(folder, suffixes))
    if base is None:
        kinds = ", ".join(sorted(suffixes))
        raise DataError(
            f"No {name} layout under {root}: expected [<split>/]<label>/<image> folders "
            f"holding {kinds} files."
        )
    items, skipped = classify(root, base, suffixes)
    return finish(root, items, skipped)


def classify(root: Path, base: Path, suffixes: Iterable[str]) -> tuple[list[Item], list[Skipped]]:
    """Every file under `base` as an Item or a Skipped; paths are relative to `root`."""
    items: list[Item] = []
    skipped: list[Skipped] = []
    for path in walk(base):
        rel = relative(path, root)
        parts = path.relative_to(base).parts
        problem = reject(rel, suffixes) or _misplaced(rel, parts)
        if problem:
            skipped.append(problem)
        else:
            items.append(Item(rel, parts[-2], split_of(parts[0]) if len(parts) == 3 else None))
    return _one_split_scheme(items, skipped)


def _holds_images(folder: Path, suffixes: frozenset[str]) -> bool:
    return any(
        p.suffix.lower() in suffixes and not is_system(p.name) and p.is_file()
        for p in folder.iterdir()
    )


def _is_base(folder: Path, suffixes: frozenset[str]) -> bool:
    """Whether `folder` holds label folders of images, directly or below split folders."""
    for sub in subdirs(folder):
        if not split_of(sub.name) and _holds_images(sub, suffixes):
            return True
        if split_of(sub.name) and any(_holds_images(c, suffixes) for c in subdirs(sub)):
            return True
    return False


def _misplaced(rel: str, parts: tuple[str, ...]) -> Skipped | None:
    """A file not exactly at `<label>/<file>` or `<split>/<label>/<file>` has no label to give."""
    if len(parts) == 2 and not split_of(parts[0]):
        return None
    if len(parts) == 3 and split_of(parts[0]) and not split_of(parts[1]):
        return None
    return Skipped(rel, "not in a class folder", "expected [<split>/]<label>/<image>")


def _one_split_scheme(
    items: list[Item], skipped: list[Skipped]
) -> tuple[list[Item], list[Skipped]]:
    """When a split level exists, images beside it have no split: report them, don't guess one."""
    if all(i.split is None for i in items) or all(i.split for i in items):
        return items, skipped
    outside = [
        Skipped(i.path, "outside split folders", "the dataset has split folders; this is in none")
        for i in items
        if i.split is None
    ]
    return [i for i in items if i.split], skipped + outside
