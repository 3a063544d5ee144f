"""Write-then-rename, so a killed stage never leaves a half-written output that DVC would cache."""

from __future__ import annotations

import glob
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of `target` (file or folder) and move it into place on success.

    On failure the temporary is removed and any previous `target` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{target.name}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        if target.is_dir() and tmp.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def remove_stale(target: Path | str) -> None:
    """Remove what a killed earlier run left beside `target`: `atomic_path`'s temporaries
    (`.tmp-<name>-*`), which a SIGKILL gives no chance to clean up. Each stage writes its own
    targets, and DVC runs one stage at a time per repository, so nothing live is touched."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".tmp-{glob.escape(target.name)}-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def write_text(target: Path | str, text: str) -> None:
    with atomic_path(target) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_json(target: Path | str, data: Any) -> None:
    write_text(target, json.dumps(data, indent=2, sort_keys=False) + "\n")
