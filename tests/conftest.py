"""Make the shared fixtures and builders in tests/helpers/ importable by every test module, and
build the tiny pipeline once per `make test` for the end-to-end tests that start from it."""

import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers.e2e import Project


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, worker_id) -> Project:
    """The tiny pipeline after its first `dvc repro`, committed. Copy it (Project.copy); never
    change it: every module that uses it starts from this state.

    Under pytest-xdist the workers share one build: the first to need it builds it (about
    3.5 minutes on 2 cores) while holding a lock; the others wait for it instead of building
    their own beside it."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the run's folder, above each worker's own
    path, first = shared / "baseline", shared / "baseline-first-repro.json"
    with open(shared / "baseline.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not first.exists():
            shutil.rmtree(path, ignore_errors=True)  # a build that failed before, if any
            path.mkdir()
            project = Project(path)
            done = project.dvc("repro")
            project.commit("baseline")
            first.write_text(json.dumps([done.args, done.returncode, done.stdout, done.stderr]))
    project = Project.at(path)
    project.first = subprocess.CompletedProcess(*json.loads(first.read_text()))
    return project
