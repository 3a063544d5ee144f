"""Seeded fuzzing (issue 12): flip bytes in images and in archives and run the real fetch and
clean. Whatever the damage: no traceback (only a FetchError sentence, or a report), no file
lost (every file is decoded or listed as skipped), and nothing left half-written.

A bounded loop of our own rather than hypothesis: the same seeds every run, a fixed budget of
cases (a few seconds on 2 cores), and no new dependency.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from pathlib import Path

import pytest

from expressions.core.errors import DataError, FetchError
from expressions.data.cleaning import clean_dataset
from expressions.data.fetch import fetch_local
from helpers.layouts import make_folder, tar_tree, zip_tree

CASES = 120


def flip(data: bytes, rng: random.Random) -> bytes:
    """Damage as disks and transfers do: a few flipped bytes, maybe a cut tail."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    if rng.random() < 0.3:
        del out[rng.randrange(1, len(out)) :]
    return bytes(out)


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def assert_every_file_accounted(root: Path, report: dict, index) -> None:
    assert report["files"] == report["skipped"] + report["decoded"] == len(files_under(root))
    seen = set(index["file"]) | {s["path"] for s in report["skipped_files"]}
    assert seen == files_under(root)


@pytest.mark.parametrize("seed", range(8))
def test_flipped_image_bytes_are_decoded_or_skipped_never_lost(tmp_path: Path, seed) -> None:
    rng = random.Random(seed)
    root = make_folder(tmp_path / "mine", classes=("happy",), per_class=4, quirks=False)
    for suffix in (".jpg", ".gif", ".bmp"):
        make_folder(root, classes=("sad",), per_class=2, suffix=suffix, quirks=False)
    images = sorted(p for p in root.rglob("*") if p.is_file())
    for path in images:
        path.write_bytes(flip(path.read_bytes(), rng))
    result = clean_dataset("mine", "folder", root, 16, 4, workers=1, progress=False)
    assert_every_file_accounted(root, result.report, result.index)
    assert len(result.images) == result.report["decoded"]


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_flipped_archive_bytes_are_a_sentence_or_a_full_dataset(tmp_path: Path, kind) -> None:
    rng = random.Random(kind)
    source = make_folder(tmp_path / "src", per_class=2, quirks=False)
    build = zip_tree if kind == "zip" else tar_tree
    pristine = build(source, tmp_path / f"good.{kind}").read_bytes()
    outcomes = {"refused": 0, "extracted": 0}
    for case in range(CASES):
        archive = tmp_path / f"case{case}.{kind}"
        archive.write_bytes(flip(pristine, rng))
        dest = tmp_path / "raw" / f"case{case}"
        try:
            fetch_local(archive, dest)
        except FetchError as err:
            assert "\n" not in str(err) and str(archive) in str(err)
            assert not dest.exists()
            outcomes["refused"] += 1
            continue
        outcomes["extracted"] += 1
        if kind == "zip":  # every member the archive lists is on disk
            with zipfile.ZipFile(archive) as zf:
                listed = {i.filename for i in zf.infolist() if not i.is_dir()}
            assert len(files_under(dest)) == len(listed)
        try:
            result = clean_dataset("x", "folder", dest, 16, 4, workers=1, progress=False)
        except DataError as err:  # the layout's own sentence (a folder name was flipped)
            assert "\n" not in str(err)
        else:
            assert_every_file_accounted(dest, result.report, result.index)
        shutil.rmtree(dest)
    assert not [p for p in (tmp_path / "raw").iterdir() if p.name.startswith(".tmp-")]
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == CASES, outcomes
