"""What a failed or repeated run leaves behind, with the real dvc: a failed `dvc exp run` deletes
no file git tracks, and a forced re-run on the same machine writes the same bytes (timings live
in timings/, which no stage reads and DVC does not hash)."""

from __future__ import annotations

import pytest

from helpers.e2e import Project

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(baseline, tmp_path_factory) -> Project:
    return Project.copy(baseline, tmp_path_factory.mktemp("failed"))


def status(project: Project) -> list[str]:
    return project.run("git", "status", "--porcelain").stdout.splitlines()


def back(project: Project) -> None:
    project.run("git", "checkout", "HEAD", "--", "params.yaml", "dvc.lock")
    project.run("git", "clean", "-fdxq", "dvclive", "metrics")
    project.dvc("repro")
    assert status(project) == []


def test_a_run_failing_in_locate_leaves_only_the_params_change(project):
    done = project.dvc("exp", "run", "-S", "model.depth=7", check=False)
    assert done.returncode != 0 and "pools a 24 px image down to nothing" in done.stderr
    assert status(project) == [" M params.yaml"]
    back(project)


def test_a_run_failing_in_training_deletes_nothing_git_tracks(project):
    done = project.dvc(
        "exp", "run", "-S", "runtime.device=cuda", "-S", "train.epochs=3", check=False
    )
    assert done.returncode != 0 and "no CUDA GPU is visible" in done.stderr
    changed = status(project)
    assert not [line for line in changed if "D" in line[:2]], changed
    assert {line[3:] for line in changed} <= {"params.yaml", "dvc.lock"}, changed
    back(project)


def test_a_forced_rerun_on_the_same_machine_leaves_dvc_lock_unchanged(project):
    project.dvc("repro", "-f", "test@main-0", "evaluate@main")
    assert project.run("git", "diff", "--stat", "dvc.lock").stdout == ""
    assert status(project) == []
    assert (project.path / "timings" / "test" / "main" / "seed-0.json").exists()
