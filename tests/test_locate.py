"""The locate note: it changes exactly when a dataset's source or local files change."""

import os

import pytest

from expressions.core.errors import FetchError
from expressions.data.locate import fingerprint, locate


def note(path):
    return locate("ck48", "folder", "local", str(path), {})


def test_a_folder_note_changes_when_files_are_added_deleted_or_rewritten(tmp_path):
    for name in ("anger/a.png", "happy/b.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * 10)
    first = note(tmp_path)
    assert first == note(tmp_path)  # looking twice changes nothing
    assert (first["files"], first["bytes"]) == (2, 20)
    (tmp_path / "happy/c.png").write_bytes(b"y")
    added = note(tmp_path)
    assert added["listing_sha256"] != first["listing_sha256"]
    (tmp_path / "happy/c.png").unlink()
    assert note(tmp_path) == first
    os.utime(tmp_path / "anger/a.png", ns=(1, 1))
    assert note(tmp_path)["listing_sha256"] != first["listing_sha256"]


def test_an_archive_is_one_file_and_sources_differ(tmp_path):
    archive = tmp_path / "ck.zip"
    archive.write_bytes(b"PK")
    assert fingerprint(archive)["files"] == 1
    synthetic = locate("rafdb", "rafdb", "synthetic", None, {"scale": 0.25, "seed": 1})
    assert synthetic == {**synthetic, "synthetic": {"scale": 0.25, "seed": 1}}
    assert locate("rafdb", "rafdb", "kaggle", "a/b", {})["slug"] == "a/b"


def test_a_missing_path_is_one_sentence(tmp_path):
    with pytest.raises(FetchError, match=r"nothing-here does not exist; set data\.local"):
        note(tmp_path / "nothing-here")
