"""Facial Expression Detection 2023 (Kaggle `prajvalpatel/facial-expression-detection-2023`).

No public loader confirms its tree, so nothing is assumed beyond class folders of JPEG/PNG images,
optionally below train/test/val folders: it is the generic folder layout with FED's file types.
"""

from __future__ import annotations

from pathlib import Path

from expressions.data.layouts import LAYOUT_SUFFIXES
from expressions.data.sources import folder
from expressions.data.sources.scan import Scan


def scan(root: Path) -> Scan:
    return folder.scan(root, LAYOUT_SUFFIXES, name="FED")
