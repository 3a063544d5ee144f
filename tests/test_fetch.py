"""Getting raw data: local zips, tars and folders, hostile archives, and the real Kaggle client
failing the ways it fails on a machine with no credentials or no network."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from expressions.core.errors import FetchError
from expressions.data.fetch import fetch_kaggle, fetch_local
from expressions.data.sources import scan
from helpers.layouts import make_fed, make_folder, make_oahega, tar_tree, zip_tree


def paths(result) -> list[tuple[str, str, str | None]]:
    return [(i.path, i.label, i.split) for i in result.items]


def assert_nothing_left(dest: Path) -> None:
    """No dest, and no half-filled temporary sibling either."""
    assert not dest.exists()
    assert not dest.parent.exists() or not list(dest.parent.glob(".tmp-*"))


def test_zip_round_trip_keeps_every_file_and_name(tmp_path: Path) -> None:
    source = make_oahega(tmp_path / "src")
    archive = zip_tree(source, tmp_path / "oahega.zip")
    dest = tmp_path / "raw" / "oahega"
    record = fetch_local(archive, dest)
    assert record == {
        "source": "local",
        "path": str(archive),
        "kind": "zip",
        "bytes": archive.stat().st_size,
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
    }
    assert paths(scan("oahega", dest)) == paths(scan("oahega", source))
    assert any("café" in p for p, _, _ in paths(scan("oahega", dest)))


def test_unflagged_utf8_zip_names_are_repaired(tmp_path: Path) -> None:
    """macOS's Finder writes UTF-8 names without the zip's UTF-8 flag; zipfile reads cp437."""
    archive = tmp_path / "mac.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Happy/cafXY.jpg", b"jpeg")  # ASCII stand-in, as long as the UTF-8 name
    archive.write_bytes(archive.read_bytes().replace(b"cafXY", "café".encode()))
    fetch_local(archive, tmp_path / "raw")
    assert (tmp_path / "raw" / "Happy" / "café.jpg").read_bytes() == b"jpeg"


def test_tar_and_folder_sources(tmp_path: Path) -> None:
    source = make_fed(tmp_path / "src")
    archive = tar_tree(source, tmp_path / "fed.tgz")
    from_tar = fetch_local(archive, tmp_path / "raw" / "fed-tar")
    from_folder = fetch_local(source, tmp_path / "raw" / "fed-folder")
    assert from_tar["kind"] == "tar" and len(from_tar["sha256"]) == 64
    assert from_folder["kind"] == "folder" and "sha256" not in from_folder
    assert from_folder["bytes"] == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    expected = paths(scan("fed2023", source))
    assert paths(scan("fed2023", tmp_path / "raw" / "fed-tar")) == expected
    assert paths(scan("fed2023", tmp_path / "raw" / "fed-folder")) == expected


def test_existing_dest_is_never_overwritten(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", quirks=False)
    dest = tmp_path / "raw"
    dest.mkdir()
    with pytest.raises(FetchError, match="already exists"):
        fetch_local(source, dest)


def _zip_with(archive: Path, name: str, data: bytes = b"x", mode: int | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("dataset/Happy/ok.jpg", b"fine")
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)
    return archive


@pytest.mark.parametrize(
    ("member", "mode", "data"),
    [
        ("../evil.txt", None, b"x"),
        ("dataset/../../evil.txt", None, b"x"),
        ("ABSOLUTE/evil.txt", None, b"x"),  # replaced by an absolute path under tmp_path
        ("dataset/Happy/link.jpg", stat.S_IFLNK | 0o777, b"../../../../etc/passwd"),
    ],
)
def test_hostile_zip_is_refused_whole(
    tmp_path: Path, member: str, mode: int | None, data: bytes
) -> None:
    member = member.replace("ABSOLUTE", str(tmp_path / "outside"))
    archive = _zip_with(tmp_path / "bad.zip", member, data, mode)
    dest = tmp_path / "raw" / "bad"
    with pytest.raises(FetchError) as err:
        fetch_local(archive, dest)
    assert repr(member) in str(err.value) and str(archive) in str(err.value)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "outside").exists()
    assert_nothing_left(dest)


def test_broken_zips_name_the_file(tmp_path: Path) -> None:
    whole = zip_tree(make_folder(tmp_path / "src", quirks=False), tmp_path / "whole.zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    bad_crc = tmp_path / "crc.zip"
    with zipfile.ZipFile(bad_crc, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("happy/a.png", b"PAYLOAD-" * 64)
    bad_crc.write_bytes(bad_crc.read_bytes().replace(b"PAYLOAD-", b"payload-", 1))
    for archive in (truncated, bad_crc):
        dest = tmp_path / "raw" / archive.stem
        with pytest.raises(
            FetchError, match=f"^{re.escape(str(archive))} is not a readable zip archive"
        ):
            fetch_local(archive, dest)
        assert_nothing_left(dest)


def _tar_with(archive: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    with tarfile.open(archive, "w:gz") as tf:
        tf.addfile(member, io.BytesIO(data))
    return archive


def test_hostile_and_broken_tars_are_refused(tmp_path: Path) -> None:
    traversal = tarfile.TarInfo("../evil.txt")
    traversal.size = 1
    link = tarfile.TarInfo("happy/link.png")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    cases = {
        "../evil.txt": _tar_with(tmp_path / "traversal.tar.gz", traversal, b"x"),
        "happy/link.png": _tar_with(tmp_path / "link.tgz", link),
    }
    for member, archive in cases.items():
        dest = tmp_path / "raw" / archive.name
        with pytest.raises(
            FetchError, match=f"^{re.escape(str(archive))} holds a .*{re.escape(repr(member))}"
        ):
            fetch_local(archive, dest)
        assert_nothing_left(dest)
    assert not (tmp_path / "evil.txt").exists()
    whole = tar_tree(make_folder(tmp_path / "src", quirks=False), tmp_path / "whole.tar.gz")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(
        FetchError, match=f"^{re.escape(str(truncated))} is not a readable tar archive"
    ):
        fetch_local(truncated, tmp_path / "raw" / "truncated")
    assert_nothing_left(tmp_path / "raw" / "truncated")


def test_unknown_files_and_outward_links_are_refused(tmp_path: Path) -> None:
    blob = tmp_path / "data.bin"
    blob.write_bytes(os.urandom(256))
    with pytest.raises(FetchError, match="is neither a zip nor a tar archive nor a folder"):
        fetch_local(blob, tmp_path / "raw" / "blob")
    with pytest.raises(FetchError, match="does not exist"):
        fetch_local(tmp_path / "nowhere.zip", tmp_path / "raw" / "nowhere")
    source = make_folder(tmp_path / "src", quirks=False)
    (source / "train" / "happy" / "secret.png").symlink_to(blob)
    with pytest.raises(FetchError, match=r"'train/happy/secret\.png' that leads outside"):
        fetch_local(source, tmp_path / "raw" / "linked")
    assert_nothing_left(tmp_path / "raw" / "linked")


def _kaggle_in_fresh_process(tmp_path: Path, slug: str, **env: str) -> str:
    """Run fetch_kaggle in a new interpreter: the client reads its config paths at import."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    clean.pop("XDG_CONFIG_HOME", None)
    clean.pop("NO_PROXY", None)
    clean.pop("no_proxy", None)
    proxy = "http://127.0.0.1:9"  # nothing listens there: fail fast, network or not
    clean |= {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(home), "HTTPS_PROXY": proxy}
    clean |= {"HTTP_PROXY": proxy, "https_proxy": proxy, "http_proxy": proxy} | env
    code = (
        "import sys; from pathlib import Path; from expressions.data.fetch import fetch_kaggle\nfrom expressions.core.errors import FetchError\n"
        "try: fetch_kaggle(sys.argv[1], Path(sys.argv[2]))\n"
        "except FetchError as e: print(e)"
    )
    dest = tmp_path / "raw" / "kaggle"
    done = subprocess.run(
        [sys.executable, "-c", code, slug, str(dest)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert_nothing_left(dest)
    return done.stdout.strip()


def test_kaggle_without_credentials(tmp_path: Path) -> None:
    said = _kaggle_in_fresh_process(tmp_path, "shuvoalok/raf-db-dataset")
    assert said == (
        "No valid Kaggle credentials to download 'shuvoalok/raf-db-dataset': the client reads "
        "KAGGLE_API_TOKEN, ~/.kaggle/access_token, KAGGLE_USERNAME with KAGGLE_KEY, or kaggle.json "
        "in $KAGGLE_CONFIG_DIR, ~/.kaggle or ~/.config/kaggle."
    )


@pytest.mark.parametrize(
    "credentials",
    [{"KAGGLE_USERNAME": "someone", "KAGGLE_KEY": "0" * 32}, {"KAGGLE_API_TOKEN": "KGAT_fake"}],
)
def test_kaggle_without_network(tmp_path: Path, credentials: dict[str, str]) -> None:
    said = _kaggle_in_fresh_process(tmp_path, "shuvoalok/raf-db-dataset", **credentials)
    assert said == (
        "Cannot reach Kaggle to download 'shuvoalok/raf-db-dataset': no network connection "
        "(check the internet access and any proxy settings)."
    )


def test_kaggle_slug_is_checked_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"^'raf-db' is not a Kaggle dataset slug"):
        fetch_kaggle("raf-db", tmp_path / "raw" / "rafdb")
