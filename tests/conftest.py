"""Make the shared fixtures and builders in tests/helpers/ importable by every test module, and
build the tiny pipeline once per `make test` for the end-to-end tests that start from it."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers.e2e import Project

# The longest modules (minutes each, measured with `--durations`), in the order pytest-xdist hands
# them out: two to each worker at the start, then one to whichever worker is free. The README
# module builds the shared baseline first while the other worker builds its own one-variant
# project; the modules that copy the baseline come after it is built; none is left for the end.
# Every other module follows in its usual order.
LONGEST_FIRST = (
    "test_readme_e2e.py",  # builds the baseline (~3 min), then ~5.5 min
    "test_everyday_e2e.py",  # ~6.5 min, its own project
    "test_pipeline_e2e.py",  # ~3 min on the baseline
    "test_readme_seeds_e2e.py",  # ~4.5 min on the baseline
    "test_processes_e2e.py",
    "test_failed_runs_e2e.py",
    "test_sharing_e2e.py",
    "test_sweeps_e2e.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep order


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, one OpenMP thread per core for each worker and what it starts (dvc
    stages, the CLI), unless OMP_NUM_THREADS says otherwise. Why: torch's OpenMP team spins
    while it waits for a core the other worker holds; with a team as wide as the machine in
    each worker, two test files side by side took 101 s and 74 s of CPU (109 s and 103 s of
    wall time) where one thread each took 53 s and 30 s (58 s and 34 s): tests/test_predict.py
    and tests/test_export.py on 2 cores. On a quiet machine the whole suite ran about as
    fast either way (docs/PERFORMANCE.md): most of its time is dvc stages, which the tiny params
    already run on one thread; it pays where torch-heavy tests share the cores with other work.
    The workers inherit the variable: the controller sets it before it starts them."""
    if hasattr(config.option, "loadscopereorder"):  # not by test count: LONGEST_FIRST's order
        config.option.loadscopereorder = False
    workers = getattr(config.option, "numprocesses", None)  # an int by now, `-n auto` too
    if isinstance(workers, int) and workers > 0 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // workers))


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
