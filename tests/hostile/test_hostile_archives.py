"""Hostile and broken archives and folders (issue 12, items 4-7): each is built here in code,
handed to the real fetch and clean functions, and must end as one sentence naming the file and
the param to change, or as a dataset whose every file is accounted for."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from expressions.config import LimitsConfig, read_yaml
from expressions.core.errors import FetchError
from expressions.data.cleaning import clean_dataset
from expressions.data.fetch import fetch_local
from expressions.data.limits import ExtractLimits
from expressions.data.locate import fingerprint
from helpers.layouts import make_fed, make_folder, make_image, tar_tree, zip_tree

ROOT = Path(__file__).resolve().parents[2]


def all_names_utf8(root: Path) -> bool:
    """What DVC needs of every name it will hash: text, and no control characters."""
    for _folder, dirs, files in os.walk(os.fsencode(root)):
        for raw in dirs + files:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return False
            if any(ord(c) < 0x20 for c in text):
                return False
    return True


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(os.fsencode(root)))


def assert_accounted(report: dict) -> None:
    assert report["files"] == report["skipped"] + report["decoded"]


def image_bytes(name: str = "x.png") -> bytes:
    return make_image(Path("/tmp") / f"hostile-{os.getpid()}" / name).read_bytes()


def zip_with_raw_names(archive: Path, members: dict[bytes, bytes], utf8_flag: bool) -> Path:
    """A zip whose member names are exactly these bytes, with the UTF-8 flag set or not, as old
    Windows and macOS archivers write them (zipfile itself only writes ASCII or flagged UTF-8)."""
    mark = "é" if utf8_flag else ""  # zipfile sets the flag for a non-ASCII name, and only then
    stand_ins = [f"m{i}{mark}-".encode().ljust(len(name), b"x") for i, name in enumerate(members)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for stand_in, data in zip(stand_ins, members.values(), strict=True):
            zf.writestr(stand_in.decode(), data)
    raw = buffer.getvalue()
    for stand_in, name in zip(stand_ins, members, strict=True):  # same length: offsets hold
        raw = raw.replace(stand_in, name)
    archive.write_bytes(raw)
    return archive


# --- item 4: names that are not UTF-8 ---------------------------------------------------------


def test_a_cp437_zip_name_is_read_as_cp437_and_listed(tmp_path: Path) -> None:
    png = image_bytes()
    archive = zip_with_raw_names(
        tmp_path / "old.zip",
        {b"train/happy/caf\x82.png": png, b"train/happy/plain.png": png[:-1] + b"\x01"},
        utf8_flag=False,
    )
    dest = tmp_path / "raw" / "old"
    record = fetch_local(archive, dest)
    extracted = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.png*"))
    assert len(extracted) == 2 and all_names_utf8(dest)
    (renamed,) = record["renamed"]
    assert renamed["file"].startswith("train/happy/café") and "cp437" in renamed["why"]


def test_a_zip_flagged_utf8_whose_names_are_not_is_one_sentence(tmp_path: Path) -> None:
    archive = zip_with_raw_names(
        tmp_path / "liar.zip", {b"train/happy/\xe9\xe9\xe9.png": image_bytes()}, utf8_flag=True
    )
    dest = tmp_path / "raw" / "liar"
    with pytest.raises(FetchError, match=r"liar\.zip flags its member names as UTF-8") as err:
        fetch_local(archive, dest)
    assert "\n" not in str(err.value) and not dest.exists()


def test_a_tar_name_that_is_not_utf8_is_escaped_listed_and_cleaned(tmp_path: Path) -> None:
    source = make_fed(tmp_path / "src", quirks=False)
    archive = tmp_path / "fed.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as tf:
        for path in sorted(source.rglob("*.jpg")):
            tf.add(path, path.relative_to(source).as_posix())
        extra = source / "train" / "Agree" / "Agree_0.jpg"
        tf.add(extra, "train/Agree/caf\udce9 latin-1.jpg")  # byte 0xE9: latin-1, not UTF-8
    dest = tmp_path / "raw" / "fed"
    record = fetch_local(archive, dest)
    assert all_names_utf8(dest)
    assert record["renamed"] == [
        {
            "file": "train/Agree/caf%E9 latin-1.jpg",
            "was": "caf\\xe9 latin-1.jpg",
            "why": "not UTF-8 or a control character",
        }
    ]
    report = clean_dataset("fed", "fed2023", dest, 16, 8, workers=1, progress=False).report
    assert_accounted(report)
    assert report["files"] == count_files(source) + 1 and report["skipped"] == 0


def test_a_folder_with_a_non_utf8_name_is_located_copied_and_renamed(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", quirks=False)
    happy = os.fsencode(source / "train" / "happy")
    odd = os.path.join(happy, b"\xff\xfe odd\x07.png")
    with open(odd, "wb") as fh:
        fh.write(image_bytes())
    assert fingerprint(source)["files"] == count_files(source)  # locate does not crash
    dest = tmp_path / "raw" / "mine"
    record = fetch_local(source, dest)
    assert all_names_utf8(dest) and count_files(dest) == count_files(source)
    assert [r["file"] for r in record["renamed"]] == ["train/happy/%FF%FE odd%07.png"]


def test_a_zip_name_with_a_control_character_is_escaped(tmp_path: Path) -> None:
    archive = tmp_path / "ctl.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("train/happy/a\nb.png", image_bytes())
    dest = tmp_path / "raw" / "ctl"
    record = fetch_local(archive, dest)
    assert (dest / "train" / "happy" / "a%0Ab.png").is_file()
    assert record["renamed"][0]["file"] == "train/happy/a%0Ab.png"


# --- item 5: Windows separators ---------------------------------------------------------------


def test_backslash_separators_make_folders_and_the_layout_is_found(tmp_path: Path) -> None:
    source = make_fed(tmp_path / "src", quirks=False)
    archive = tmp_path / "windows.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(source.rglob("*.jpg")):
            zf.write(path, str(path.relative_to(source)).replace("/", "\\"))
    dest = tmp_path / "raw" / "fed"
    fetch_local(archive, dest)
    assert not [p for p in dest.rglob("*") if "\\" in p.name]
    report = clean_dataset("fed", "fed2023", dest, 16, 8, workers=1, progress=False).report
    assert report["decoded"] == count_files(source) and report["labels"].keys() == {
        "Agree",
        "Think",
        "Confusion",
        "Aversion",
    }


@pytest.mark.parametrize("name", ["..\\..\\evil.png", "C:\\evil.png", "a\\..\\..\\evil.png"])
def test_backslash_paths_out_of_the_folder_are_still_refused(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "escape.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, b"x")
    with pytest.raises(FetchError, match="points outside the dataset folder"):
        fetch_local(archive, tmp_path / "raw" / "escape")
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "raw" / "escape").exists()


def test_two_members_landing_on_one_path_are_refused_not_overwritten(tmp_path: Path) -> None:
    archive = tmp_path / "clash.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("happy\\a.png", b"one")
        zf.writestr("happy/a.png", b"two")
    with pytest.raises(FetchError, match=r"clash\.zip holds two members that both extract to"):
        fetch_local(archive, tmp_path / "raw" / "clash")


# --- item 6: empty archives, stale temporaries -------------------------------------------------


def empty_zip(path: Path) -> Path:
    zipfile.ZipFile(path, "w").close()
    return path


def folders_only_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("train/", b"")
        zf.writestr("train/happy/", b"")
    return path


def empty_tar(path: Path) -> Path:
    tarfile.open(path, "w:gz").close()
    return path


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("build", "name", "sentence"),
    [
        (empty_zip, "e.zip", "is an empty archive: it holds no files"),
        (folders_only_zip, "f.zip", "is an empty archive: it holds no files"),
        (empty_tar, "t.tar.gz", "is an empty archive: it holds no files"),
        (zero_bytes, "z.zip", r"is empty \(0 bytes\)"),
    ],
)
def test_an_empty_archive_is_named_as_empty(tmp_path: Path, build, name, sentence) -> None:
    archive = build(tmp_path / name)
    dest = tmp_path / "raw" / "empty"
    with pytest.raises(FetchError, match=sentence) as err:
        fetch_local(archive, dest)
    assert str(err.value).startswith(str(archive)) and not dest.exists()
    assert not list(dest.parent.glob(".tmp-*")) if dest.parent.exists() else True


def test_an_empty_folder_is_named_as_empty(tmp_path: Path) -> None:
    (tmp_path / "src" / "train" / "happy").mkdir(parents=True)
    with pytest.raises(FetchError, match="is an empty folder: it holds no files"):
        fetch_local(tmp_path / "src", tmp_path / "raw" / "empty")


def test_a_killed_runs_temporaries_are_removed_at_the_next_run(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    stale_dir = raw / ".tmp-fed-1a2b3c4d"
    (stale_dir / "train").mkdir(parents=True)
    (stale_dir / "train" / "half.jpg").write_bytes(b"half")
    stale_kaggle = raw / ".tmp-fed-download-xyz"
    stale_kaggle.mkdir()
    other = raw / ".tmp-fedx-1a2b3c4d"  # another dataset's: not ours to touch
    other.mkdir()
    archive = zip_tree(make_fed(tmp_path / "src", quirks=False), tmp_path / "fed.zip")
    fetch_local(archive, raw / "fed")
    assert not stale_dir.exists() and not stale_kaggle.exists() and other.exists()
    assert (raw / "fed" / "train").is_dir()


def test_temporaries_are_kept_out_of_git_status() -> None:
    for path in ("data/raw/.tmp-rafdb-1a2b3c4d/x.jpg", "data/clean/.tmp-rafdb-0f0f0f0f"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert done.returncode == 0, f"{path} would show in git status"


# --- item 7: limits ---------------------------------------------------------------------------


def test_the_limit_defaults_agree_everywhere() -> None:
    params = read_yaml(ROOT / "params.yaml")["data"]["limits"]
    config, fetch = LimitsConfig(), ExtractLimits()
    assert params == {"extracted_gib": 20, "ratio": 100, "megapixels": 25}
    assert (config.extracted_gib, config.ratio) == (fetch.extracted_gib, fetch.ratio)
    assert config.megapixels == params["megapixels"]


def test_a_zip_bomb_member_is_refused_naming_the_member_and_the_param(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("train/happy/ok.png", image_bytes())
        zf.writestr("train/happy/zeros.png", bytes(16 << 20))
    dest = tmp_path / "raw" / "bomb"
    with pytest.raises(FetchError) as err:
        fetch_local(archive, dest)
    message = str(err.value)
    assert "bomb.zip" in message and "train/happy/zeros.png" in message
    assert "data.limits.ratio" in message and "limit of 100" in message
    assert not dest.exists()
    fetch_local(archive, dest, ExtractLimits(ratio=100_000))  # raising the param lets it through
    assert (dest / "train" / "happy" / "zeros.png").stat().st_size == 16 << 20


def test_a_tar_gz_bomb_is_refused_as_a_whole(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for i in range(3):
            info = tarfile.TarInfo(f"train/happy/z{i}.png")
            info.size = 4 << 20
            tf.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(FetchError, match=r"all its members expands .* data\.limits\.ratio"):
        fetch_local(archive, tmp_path / "raw" / "bomb")


@pytest.mark.parametrize("kind", ["zip", "folder"])
def test_too_many_bytes_in_all_is_refused_naming_the_param(tmp_path: Path, kind: str) -> None:
    source = make_folder(tmp_path / "src", quirks=False)
    (source / "train" / "happy" / "big.png").write_bytes(os.urandom(2 << 20))
    src = zip_tree(source, tmp_path / "big.zip") if kind == "zip" else source
    limits = ExtractLimits(extracted_gib=0.001)
    with pytest.raises(FetchError, match=r"GiB of files, more than the limit of 0\.001 GiB") as err:
        fetch_local(src, tmp_path / "raw" / "big", limits)
    assert str(src) in str(err.value) and "data.limits.extracted_gib" in str(err.value)


def test_a_device_as_the_source_is_refused_without_reading_it(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"/dev/zero is not a regular file or folder"):
        fetch_local(Path("/dev/zero"), tmp_path / "raw" / "zero")


def test_a_pipe_inside_a_folder_is_refused_without_blocking(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", quirks=False)
    os.mkfifo(source / "train" / "happy" / "pipe.png")
    with pytest.raises(FetchError, match=r"holds 'train/happy/pipe\.png', which is not a regular"):
        fetch_local(source, tmp_path / "raw" / "piped")
    os.mkfifo(tmp_path / "pipe.zip")
    with pytest.raises(FetchError, match="is not a regular file or folder"):
        fetch_local(tmp_path / "pipe.zip", tmp_path / "raw" / "pipe")


def test_the_next_run_works_after_a_refused_archive(tmp_path: Path) -> None:
    dest = tmp_path / "raw" / "fed"
    with pytest.raises(FetchError):
        fetch_local(empty_zip(tmp_path / "empty.zip"), dest)
    good = tar_tree(make_fed(tmp_path / "src", quirks=False), tmp_path / "fed.tgz")
    assert fetch_local(good, dest)["kind"] == "tar"
    assert not list(dest.parent.glob(".tmp-*"))
