"""Where a dataset's raw files come from, as a note DVC can compare between runs.

DVC hashes a stage's deps, but a user's dataset lives outside the repository at a path that is
a param, and DVC's templates cannot name an optional outside path as a dep. The locate stage
runs on every `dvc repro` and writes this note; the download stage depends on it. So adding or
deleting a file in a local folder (or replacing an archive) changes the note and re-runs that
dataset's download and what follows, and editing one dataset's path re-runs only its download.

A local source is fingerprinted by every file's relative name, size and modification time (the
same facts DVC's own state cache trusts), not by reading every byte: cheap for 35,000 images.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from expressions.core.errors import FetchError
from expressions.core.paths import user_path


def fingerprint(path: Path) -> dict[str, Any]:
    """Name, size and mtime of every file under `path` (a folder or one archive), hashed."""
    if not path.exists():
        raise FetchError(f"{path} does not exist; set data.local to a zip, tar or folder")
    digest = hashlib.sha256()
    files = total = 0
    for file in sorted(_files(path)):
        stat = file.stat()
        digest.update(
            f"{file.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode(
                errors="surrogateescape"
            )
        )
        files, total = files + 1, total + stat.st_size
    return {"files": files, "bytes": total, "listing_sha256": digest.hexdigest()}


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    found = []
    for folder, _dirs, names in os.walk(path):
        found += [Path(folder) / name for name in names]
    return found


def locate(
    dataset: str,
    layout: str,
    source: str,
    where: str | None,
    synthetic: dict[str, Any],
    limits: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The note for one dataset: its layout and source, and what identifies the files there.
    A download (local or Kaggle) also gets the extraction `limits` (params data.limits), so
    raising one re-runs that download."""
    note: dict[str, Any] = {"dataset": dataset, "layout": layout, "source": source}
    if source == "local":
        path = user_path(str(where)).resolve()
        note |= {"path": str(path), **fingerprint(path)}
    elif source == "kaggle":
        note["slug"] = where
    if source in ("local", "kaggle") and limits:
        note["limits"] = limits
    else:
        note["synthetic"] = synthetic
    return note
