"""Put a raw dataset on disk as a plain folder, from a user's zip, tar or folder, or from Kaggle.

The folder appears at `dest` only once complete (it is filled as a hidden sibling, then renamed),
so a killed run never leaves a half folder that looks finished; and no archive member can write,
or point, outside it. Every failure is a FetchError: one sentence for the user, no traceback.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

from expressions.atomic import atomic_path
from expressions.errors import FetchError

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_ZIP_UTF8 = 0x800  # general-purpose flag: member names are UTF-8, not cp437


def fetch_local(src: Path, dest: Path) -> dict:
    """Materialise a user's zip, tar/tar.gz/tgz, or folder as dest (which must not exist yet);
    return a record {"source": "local", "path": str(src), "kind": "zip"|"tar"|"folder",
    "bytes": int, "sha256": str (archives only)}."""
    src, dest = Path(src), Path(dest)
    if not src.exists():
        raise FetchError(f"{src} does not exist.")
    kind = archive_kind(src)
    _check_free(dest)
    record = {"source": "local", "path": str(src), "kind": kind}
    if kind == "folder":
        return record | {"bytes": _copy_folder(src, dest)}
    extract(src, dest, kind)
    size, sha256 = digest(src)
    return record | {"bytes": size, "sha256": sha256}


def fetch_kaggle(slug: str, dest: Path) -> dict:
    """Download Kaggle dataset `slug` and extract it as dest; return {"source": "kaggle",
    "slug": ..., "version": ... or None, "bytes": ..., "sha256": ...}."""
    from expressions.data import kaggle  # the kaggle client is slow to import and authenticates

    dest = Path(dest)
    _check_free(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".tmp-{dest.name}-download-", dir=dest.parent) as tmp:
        archive, version = kaggle.download(slug, Path(tmp))
        size, sha256 = digest(archive)
        extract(archive, dest, "zip")
    return {"source": "kaggle", "slug": slug, "version": version, "bytes": size, "sha256": sha256}


def archive_kind(src: Path) -> str:
    """Tell a "folder", "zip" or "tar" source apart: by name first, so that a truncated zip is
    reported as a broken zip rather than as an unknown file, then by content."""
    name = src.name.lower()
    if src.is_dir():
        return "folder"
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    if zipfile.is_zipfile(src):
        return "zip"
    if tarfile.is_tarfile(src):
        return "tar"
    raise FetchError(f"{src} is neither a zip nor a tar archive nor a folder.")


def digest(path: Path) -> tuple[int, str]:
    """Size in bytes and sha256 of a file, recorded so a re-download that changed is noticed."""
    with open(path, "rb") as fh:
        return path.stat().st_size, hashlib.file_digest(fh, "sha256").hexdigest()


def extract(archive: Path, dest: Path, kind: str) -> None:
    """Extract a "zip" or "tar" archive as `dest`, all or nothing."""
    with atomic_path(dest) as tmp:
        tmp.mkdir()
        try:
            (_extract_zip if kind == "zip" else _extract_tar)(archive, tmp)
        except OSError as e:
            raise FetchError(f"Could not extract {archive} into {dest}: {e.strerror or e}.") from e


def _check_free(dest: Path) -> None:
    if dest.exists():
        raise FetchError(
            f"{dest} already exists: remove it first, so that no old file is mixed in."
        )


def _unsafe(archive: Path, name: str) -> FetchError | None:
    """Refuse names that would land outside the destination, whatever the extractor does."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) or ".." in posix.split("/"):
        return FetchError(
            f"{archive} holds a member {name!r} that points outside the dataset folder "
            "(absolute path or '..'), so nothing was extracted."
        )
    return None


def _link(archive: Path, name: str) -> FetchError:
    return FetchError(
        f"{archive} holds a link {name!r}, which could lead outside the dataset folder, "
        "so nothing was extracted."
    )


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name, with UTF-8 names that an archiver failed to flag as UTF-8 repaired
    (macOS and some Windows tools do this, and non-ASCII image names then come out garbled)."""
    if info.flag_bits & _ZIP_UTF8:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def _extract_zip(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for info in members:
                info.filename = _zip_name(info)
                if problem := _unsafe(archive, info.filename):
                    raise problem
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise _link(archive, info.filename)
            zf.extractall(into, members)
    except (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError) as e:
        raise FetchError(f"{archive} is not a readable zip archive ({_first_line(e)}).") from e


def _extract_tar(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if problem := _unsafe(archive, member.name):
                    raise problem
                if member.issym() or member.islnk():
                    raise _link(archive, member.name)
            tf.extractall(into, filter="data")
    except tarfile.FilterError as e:
        name = e.tarinfo.name
        raise FetchError(f"{archive} holds an unsafe member {name!r} ({e}).") from e
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as e:
        raise FetchError(f"{archive} is not a readable tar archive ({_first_line(e)}).") from e


def _first_line(error: Exception) -> str:
    """The gist of a library error: tarfile's can span lines, a FetchError is one sentence."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[0].rstrip(":")


def _copy_folder(src: Path, dest: Path) -> int:
    """Copy `src` as `dest` (links inside `src` are copied as what they point to); its size."""
    if dest.resolve().is_relative_to(src.resolve()):
        raise FetchError(f"{dest} is inside {src}: copying a folder into itself never ends.")
    _refuse_outward_links(src)
    with atomic_path(dest) as tmp:
        try:
            shutil.copytree(src, tmp)
        except (shutil.Error, OSError) as e:
            raise FetchError(f"Could not copy {src} to {dest}: {e}.") from e
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def _refuse_outward_links(src: Path) -> None:
    """A link leading out of `src` (or nowhere) would pull in files that are not the dataset."""
    inside = src.resolve()
    for current, dirs, files in os.walk(src):
        for name in dirs + files:
            path = Path(current, name)
            if not path.is_symlink():
                continue
            target = path.resolve()
            if not target.exists() or not target.is_relative_to(inside):
                raise FetchError(
                    f"{src} holds a link {path.relative_to(src).as_posix()!r} that leads outside "
                    "it or nowhere, so nothing was copied."
                )
