"""Sweeps in DVC's experiment queue, on tiny data, as the README's "Sweeps" section types them.

A queued experiment runs in a temporary copy of the repository holding only git- and DVC-tracked
files. Both kinds of data path must still resolve there: the default (synthetic, made by the
pipeline) and a local dataset that sits untracked beside the project (data.local.<name>).
"""

import json
import shutil
import time

import pytest

from helpers.e2e import Project

pytestmark = pytest.mark.e2e


def wait_for_queue(project: Project, timeout: float = 400) -> str:
    """Poll `dvc queue status` until nothing is queued or running; return the last table."""
    deadline = time.monotonic() + timeout
    while True:
        status = project.dvc("queue", "status").stdout
        if not any(word in status for word in ("Queued", "Running")):
            return status
        assert time.monotonic() < deadline, f"queue still busy after {timeout} s:\n{status}"
        time.sleep(3)


def experiments(project: Project) -> dict[str, dict]:
    """name -> {"params": params.yaml's data, "metrics": {path: data}} from `dvc exp show`."""
    shown = json.loads(project.dvc("exp", "show", "--json").stdout)
    found = {}
    for baseline in shown:
        for exp in baseline.get("experiments") or []:
            for rev in exp["revs"]:
                data = rev["data"]
                found[rev["name"]] = {
                    "params": data["params"]["params.yaml"]["data"],
                    "metrics": {
                        p: m["data"] for p, m in (data["metrics"] or {}).items() if "data" in m
                    },
                }
    return found


def test_queued_grid_and_local_data_run_and_show(baseline, tmp_path):
    project = Project.copy(baseline, tmp_path / "repo")
    # A user's own copy of one dataset, untracked, beside the project: only DVC_ROOT finds it.
    raw = tmp_path / "repo" / "data" / "raw" / "fed2023"
    shutil.make_archive(str(tmp_path / "repo" / "fed2023"), "zip", raw)

    # The grid: two kernels, both reading fed2023 from the user's zip, the others synthetic.
    project.dvc(
        "exp",
        "run",
        "--queue",
        "-S",
        "model.kernel=4,5",
        "-S",
        "data.local.fed2023=fed2023.zip",
        "evaluate@main",
    )
    assert project.dvc("queue", "status").stdout.count("Queued") == 2
    project.dvc("queue", "start", "-j", "2")
    status = wait_for_queue(project)
    assert status.count("Success") == 2, status

    found = experiments(project)
    assert sorted(e["params"]["model"]["kernel"] for e in found.values()) == [4, 5]
    for exp in found.values():
        assert exp["params"]["data"]["local"]["fed2023"] == "fed2023.zip"
        assert exp["metrics"]["metrics/test/main.json"]["main"]["acc"] > 0
    ranked = project.dvc(
        "exp", "show", "--csv", "--only-changed", "--sort-by", "main.acc"
    ).stdout.splitlines()
    assert "model.kernel" in ranked[0].split(",")
    assert len(ranked) == 1 + 2 + 2  # header, workspace, baseline, the grid
