"""The real `dvc repro` on a hostile local dataset (issue 12, items 4 and 6): a tar with a name
that is not UTF-8 and Windows separators, beside a killed run's leftovers. The repro succeeds,
the renamed file is listed, and later `dvc status` / `dvc repro` / `git status` work without
any manual cleaning."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from helpers.e2e import Project, tiny_params
from helpers.layouts import make_fed

pytestmark = pytest.mark.e2e


def hostile_tar(root: Path) -> Path:
    tree = make_fed(root / "fed", per_class=3, split=False, quirks=False)
    archive = root / "fed.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as tf:
        for path in sorted(tree.rglob("*.jpg")):
            tf.add(path, str(path.relative_to(tree)).replace("/", "\\"))
        tf.add(tree / "Agree" / "Agree_0.jpg", "Agree/caf\udce9.jpg")  # latin-1 0xE9
    return archive


def test_a_hostile_local_tar_runs_and_later_commands_still_work(tmp_path: Path) -> None:
    params = tiny_params(**{"data.local.fed2023": str(hostile_tar(tmp_path))})
    (tmp_path / "project").mkdir()
    project = Project(tmp_path / "project", params)
    stale = project.path / "data" / "raw" / ".tmp-fed2023-dead0000"
    (stale / "Agree").mkdir(parents=True)  # what a SIGKILL during extraction leaves
    (stale / "Agree" / "half.jpg").write_bytes(b"half")

    done = project.dvc("repro", "clean@fed2023")
    assert "1 file names were not UTF-8" in done.stdout
    assert not stale.exists()
    record = json.loads((project.path / "data/raw/fed2023.source.json").read_text())
    assert [r["file"] for r in record["renamed"]] == ["Agree/caf%E9.jpg"]
    report = json.loads((project.path / "metrics/clean/fed2023.json").read_text())
    assert report["files"] == report["skipped"] + report["decoded"] == 13

    status = project.dvc("status", "clean@fed2023")
    assert "changed" not in status.stdout
    again = project.dvc("repro", "clean@fed2023")
    assert "Running stage 'clean@fed2023'" not in again.stdout
    assert (
        project.run("git", "status", "--porcelain", "--untracked-files=all").stdout.count(".tmp-")
        == 0
    )
