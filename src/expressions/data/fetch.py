"""Put a raw dataset on disk as a plain folder, from a user's zip, tar or folder, or from Kaggle.

The folder appears at `dest` only once complete (it is filled as a hidden sibling, then renamed),
so a killed run never leaves a half folder that looks finished (and a temporary left by a killed
earlier run is removed at the next); no archive member can write, or point, outside it. Names are
made safe on the way in: a zip's names are read as its UTF-8 flag says, else as cp437 (the zip
spec's default), separators `\\` become `/`, and any byte that is not UTF-8 or is a control
character is escaped as `%XX`, because a single non-UTF-8 name on disk makes every later `dvc`
command fail with a codec error. Each renamed file is listed in the fetch record.

Sizes are limited before anything is written (`ExtractLimits`, from params `data.limits`):
total bytes, and how many times a member expands (a zip bomb). The sizes a zip declares are
enforced by zipfile itself (it stops at the declared size and then fails the CRC check).
Every failure is a FetchError: one sentence for the user, no traceback.
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

from expressions.core.atomic import atomic_path, remove_stale
from expressions.core.errors import FetchError
from expressions.data.limits import ExtractLimits

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_ZIP_UTF8 = 0x800  # general-purpose flag: member names are UTF-8, not cp437
_RATIO_FLOOR = 1 << 20  # members smaller than 1 MiB expand too little to matter, whatever ratio
_GIB = 1 << 30
Renamed = list[dict[str, str]]  # {"file": name on disk, "was": the archive's name, "why": ...}


def fetch_local(src: Path, dest: Path, limits: ExtractLimits | None = None) -> dict:
    """Materialise a user's zip, tar/tar.gz/tgz, or folder as dest (which must not exist yet);
    return a record {"source": "local", "path": str(src), "kind": "zip"|"tar"|"folder",
    "bytes": int, "sha256": str (archives only), "renamed": [...] (only if a name was unsafe)}."""
    src, dest, limits = Path(src), Path(dest), limits or ExtractLimits()
    if not src.exists():
        raise FetchError(f"{src} does not exist.")
    if not (src.is_dir() or src.is_file()):
        raise FetchError(
            f"{src} is not a regular file or folder (a device, pipe or socket), so it is not "
            "read; set data.local to a zip, a tar or a folder."
        )
    kind = archive_kind(src)
    _check_free(dest)
    remove_stale(dest)
    record = {"source": "local", "path": str(src), "kind": kind}
    if kind == "folder":
        size, renamed = _copy_folder(src, dest, limits)
        return record | {"bytes": size} | _renamed_entry(renamed)
    renamed = extract(src, dest, kind, limits)
    size, sha256 = digest(src)
    return record | {"bytes": size, "sha256": sha256} | _renamed_entry(renamed)


def fetch_kaggle(slug: str, dest: Path, limits: ExtractLimits | None = None) -> dict:
    """Download Kaggle dataset `slug` and extract it as dest; return {"source": "kaggle",
    "slug": ..., "version": ... or None, "bytes": ..., "sha256": ...}."""
    from expressions.data import kaggle  # the kaggle client is slow to import and authenticates

    dest = Path(dest)
    _check_free(dest)
    remove_stale(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".tmp-{dest.name}-download-", dir=dest.parent) as tmp:
        archive, version = kaggle.download(slug, Path(tmp))
        size, sha256 = digest(archive)
        renamed = extract(archive, dest, "zip", limits or ExtractLimits())
    record = {"source": "kaggle", "slug": slug, "version": version, "bytes": size}
    return record | {"sha256": sha256} | _renamed_entry(renamed)


def _renamed_entry(renamed: Renamed) -> dict:
    """Only a dataset with renamed files gets the key, so ordinary records stay as they were."""
    return {"renamed": renamed} if renamed else {}


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


def extract(archive: Path, dest: Path, kind: str, limits: ExtractLimits | None = None) -> Renamed:
    """Extract a "zip" or "tar" archive as `dest`, all or nothing; the files it had to rename."""
    limits = limits or ExtractLimits()
    if archive.stat().st_size == 0:
        raise FetchError(f"{archive} is empty (0 bytes), so there is no dataset in it.")
    with atomic_path(dest) as tmp:
        tmp.mkdir()
        try:
            renamed = (_extract_zip if kind == "zip" else _extract_tar)(archive, tmp, limits)
            return renamed + make_names_safe(tmp)
        except OSError as e:
            raise FetchError(f"Could not extract {archive} into {dest}: {e.strerror or e}.") from e


def _check_sizes(
    source: Path,
    sizes: list[tuple[str, int, int | None]],
    limits: ExtractLimits,
    packed_total: int | None = None,
) -> None:
    """Refuse before writing anything: no files at all, too many bytes in all, or a member (or the
    whole archive, `packed_total` bytes) that expands more than `limits.ratio` times.
    `sizes` holds (name, uncompressed bytes, compressed bytes or None) per file."""
    if not sizes:
        what = "folder" if packed_total is None else "archive"
        raise FetchError(f"{source} is an empty {what}: it holds no files, so no dataset.")
    total = sum(size for _, size, _ in sizes)
    if total > limits.extracted_gib * _GIB:
        raise FetchError(
            f"{source} holds {total / _GIB:.3g} GiB of files, more than the limit of "
            f"{limits.extracted_gib:g} GiB; raise data.limits.extracted_gib if that is right."
        )
    for name, size, packed in [*sizes, ("all its members", total, packed_total)]:
        if packed is not None and size > _RATIO_FLOOR and size > limits.ratio * max(packed, 1):
            raise FetchError(
                f"{source}: {name} expands {size / max(packed, 1):,.0f} times ({packed:,} to "
                f"{size:,} bytes), more than the limit of {limits.ratio:g} (a zip bomb?); raise "
                "data.limits.ratio if that is right."
            )


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


def _zip_name(info: zipfile.ZipInfo) -> tuple[str, str | None]:
    """The member's name and, when it was not UTF-8, how it was read. zipfile already decoded an
    unflagged name as cp437; if those bytes are valid UTF-8 the archiver just forgot the flag
    (macOS and some Windows tools do), so they are read as UTF-8 and nothing is reported."""
    if info.flag_bits & _ZIP_UTF8 or info.filename.isascii():
        return info.filename, None
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8"), None
    except UnicodeError:
        return info.filename, "not UTF-8: read as cp437, as the zip spec says"


def _extract_zip(archive: Path, into: Path, limits: ExtractLimits) -> Renamed:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            renamed = []
            for info in members:
                name, why = _zip_name(info)
                info.filename = name.replace("\\", "/")
                if why:
                    renamed.append({"file": info.filename, "was": name, "why": why})
                if problem := _unsafe(archive, info.filename):
                    raise problem
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise _link(archive, info.filename)
            files = [i for i in members if not i.is_dir()]
            _refuse_clashes(archive, [i.filename for i in files])
            sizes = [(i.filename, i.file_size, i.compress_size) for i in files]
            _check_sizes(archive, sizes, limits, archive.stat().st_size)
            zf.extractall(into, members)
    except UnicodeDecodeError as e:  # flagged UTF-8 but is not: zipfile cannot list it at all
        raise FetchError(
            f"{archive} flags its member names as UTF-8 but one is not ({e.object[:60]!r}), so "
            "it cannot be read; re-create the zip with a current archiver."
        ) from e
    except (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError) as e:
        raise FetchError(f"{archive} is not a readable zip archive ({_first_line(e)}).") from e
    return renamed


def _extract_tar(archive: Path, into: Path, limits: ExtractLimits) -> Renamed:
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for member in members:
                member.name = member.name.replace("\\", "/")
                if problem := _unsafe(archive, member.name):
                    raise problem
                if member.issym() or member.islnk():
                    raise _link(archive, member.name)
            files = [m for m in members if m.isfile()]
            _refuse_clashes(archive, [m.name for m in files])
            sizes = [(m.name, m.size, None) for m in files]  # a tar compresses as one stream
            _check_sizes(archive, sizes, limits, archive.stat().st_size)
            tf.extractall(into, members, filter="data")
    except tarfile.FilterError as e:
        name = e.tarinfo.name
        raise FetchError(f"{archive} holds an unsafe member {name!r} ({e}).") from e
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as e:
        raise FetchError(f"{archive} is not a readable tar archive ({_first_line(e)}).") from e
    return []


def _refuse_clashes(archive: Path, names: list[str]) -> None:
    """Two members landing on one path (`a\\b.jpg` and `a/b.jpg`) would lose one file."""
    seen: set[str] = set()
    for name in names:
        key = name.strip("/")
        if key in seen:
            raise FetchError(
                f"{archive} holds two members that both extract to {key!r}, so one would be "
                "lost; nothing was extracted."
            )
        seen.add(key)


def make_names_safe(root: Path) -> Renamed:
    """Rename every file or folder under `root` whose name is not valid UTF-8 or holds a control
    character, escaping each such byte as %XX; return what was renamed. Works on bytes, because
    such a name cannot be handled as text at all (which is what breaks DVC)."""
    renamed: Renamed = []
    base = os.fsencode(root)
    for folder, dirs, files in os.walk(base):
        for i, raw in enumerate(dirs):
            dirs[i] = _rename_safe(folder, raw, base, renamed)
        for raw in files:
            _rename_safe(folder, raw, base, renamed)
    return renamed


def _rename_safe(folder: bytes, raw: bytes, base: bytes, renamed: Renamed) -> bytes:
    safe = safe_name(raw)
    if safe == raw:
        return raw
    new, n = safe, 1
    while os.path.lexists(os.path.join(folder, new)):  # never overwrite a file that is there
        new, n = safe + b"~%d" % n, n + 1
    os.rename(os.path.join(folder, raw), os.path.join(folder, new))
    relative = os.path.relpath(os.path.join(folder, new), base).decode()
    was = raw.decode("utf-8", "backslashreplace")
    renamed.append({"file": relative, "was": was, "why": "not UTF-8 or a control character"})
    return new


def safe_name(raw: bytes) -> bytes:
    """`raw` with each byte that is not part of valid UTF-8, and each control character,
    written as %XX: a name every tool (git, DVC, JSON) can carry."""
    text = raw.decode("utf-8", "surrogateescape")
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as surrogateescape carries it
            out.append(f"%{code - 0xDC00:02X}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"%{code:02X}")
        else:
            out.append(ch)
    return "".join(out).encode()


def _first_line(error: Exception) -> str:
    """The gist of a library error: tarfile's can span lines, a FetchError is one sentence."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[0].rstrip(":")


def _copy_folder(src: Path, dest: Path, limits: ExtractLimits) -> tuple[int, Renamed]:
    """Copy `src` as `dest` (links inside `src` are copied as what they point to); its size and
    the files renamed because their names were unsafe."""
    if dest.resolve().is_relative_to(src.resolve()):
        raise FetchError(f"{dest} is inside {src}: copying a folder into itself never ends.")
    _refuse_outward_links(src)
    sizes = _regular_files(src)
    _check_sizes(src, [(name, size, None) for name, size in sizes], limits)
    with atomic_path(dest) as tmp:
        try:
            shutil.copytree(src, tmp)
            renamed = make_names_safe(tmp)
        except (shutil.Error, OSError) as e:
            raise FetchError(f"Could not copy {src} to {dest}: {e}.") from e
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()), renamed


def _regular_files(src: Path) -> list[tuple[str, int]]:
    """(relative name, bytes) of every file under `src`; a device, pipe or socket is refused,
    since copying one reads forever (/dev/zero) or blocks (a pipe)."""
    found = []
    for current, _dirs, files in os.walk(src):
        for name in files:
            path = Path(current, name)
            mode = path.stat().st_mode
            relative = path.relative_to(src).as_posix()
            if not stat.S_ISREG(mode):
                raise FetchError(
                    f"{src} holds {relative!r}, which is not a regular file (a device, pipe or "
                    "socket), so nothing was copied."
                )
            found.append((relative, path.stat().st_size))
    return found


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
