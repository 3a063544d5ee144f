"""Turn a raw dataset folder into labelled items, whatever layout its distribution uses.

`scan(layout, root)` is the one entry point; each layout lives in its own module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from expressions.core.errors import DataError
from expressions.data.layouts import LAYOUTS
from expressions.data.sources import fed2023, folder, oahega, rafdb
from expressions.data.sources.scan import Item, Scan, Skipped

__all__ = ["LAYOUTS", "Item", "Scan", "Skipped", "scan"]

_SCANNERS: dict[str, Callable[[Path], Scan]] = {
    "rafdb": rafdb.scan,
    "oahega": oahega.scan,
    "fed2023": fed2023.scan,
    "folder": folder.scan,
}  # one per name in layouts.LAYOUTS (tests/test_sources.py checks)


def scan(layout: str, root: Path) -> Scan:
    """Every file under `root` as an Item or a Skipped (label files of the layout aside).

    Raises DataError, one sentence naming `root`, when the layout cannot be found there.
    """
    if layout not in _SCANNERS:
        raise DataError(f"Unknown layout {layout!r}: expected one of {', '.join(LAYOUTS)}.")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder: fetch (extract) the dataset before scanning it.")
    return _SCANNERS[layout](root)
