"""Share results instead of retraining: a DVC remote holds data, models and the run-cache.

As the README's "Sharing results" section types it, with a local folder as the DVC remote and a
bare git repository as origin: clone A runs the pipeline and an experiment and pushes both;
a fresh clone B pulls and has every output without running a stage.
"""

import json
import subprocess

import pytest

from expressions.config import read_yaml
from helpers.e2e import ROOT, Project, ran

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared(baseline, tmp_path_factory):
    """A ran the pipeline and an experiment and pushed both; B is a fresh clone that pulled."""
    tmp = tmp_path_factory.mktemp("sharing")
    origin, storage = tmp / "origin.git", tmp / "storage"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    a = Project.copy(baseline, tmp / "a")  # the pipeline, run and committed
    a.dvc("remote", "add", "-d", "storage", str(storage))
    a.run("git", "remote", "add", "origin", str(origin))
    a.commit("A's remote")
    a.run("git", "push", "-q", "origin", "main")
    a.dvc("push", "--run-cache")  # the workspace's outputs: push before an experiment replaces them
    commit_a = a.run("git", "rev-parse", "HEAD").stdout.strip()
    a.dvc("exp", "run", "-n", "fast", "-S", "train.lr=0.003", "evaluate@main")  # main only
    exp_metrics = json.loads((a.path / "metrics/test/main.json").read_text())
    a.dvc("push", "--run-cache")  # the experiment's outputs and run-cache entries
    a.dvc("exp", "push", "origin", "fast")

    b = Project.clone(origin, tmp / "b")
    b.dvc("pull", "--run-cache")
    return b, commit_a, exp_metrics


def reset(project: Project) -> None:
    project.run("git", "reset", "-q", "--hard")
    project.dvc("checkout", "--force")


def test_fresh_clone_runs_no_stage_and_matches_a(shared):
    b, commit_a, _ = shared
    done = b.dvc("repro")
    looked = {s for s in ran(done) if not s.startswith("locate@")}
    assert looked == set(), done.stdout  # locate@ only looks where each dataset comes from
    assert b.dvc("metrics", "diff", commit_a).stdout.strip() == ""
    assert b.dvc("metrics", "diff", commit_a, "--json").stdout.strip() in ("", "{}")
    assert b.run("git", "status", "--porcelain").stdout.strip() == ""


def test_pulled_experiment_applies_with_its_metrics(shared):
    b, _, exp_metrics = shared
    b.dvc("exp", "pull", "origin", "fast")
    assert "fast" in b.dvc("exp", "ls", "--name-only").stdout.split()
    b.dvc("exp", "apply", "fast")
    assert json.loads((b.path / "metrics/test/main.json").read_text()) == exp_metrics
    reset(b)


def train_has_uncached_outputs() -> bool:
    """Whether dvc.yaml's train stage has any `cache: false` output (outs, metrics or plots)."""
    train = read_yaml(ROOT / "dvc.yaml")["stages"]["train"]
    stage = train.get("do", train)  # foreach stages nest it in do:, matrix stages do not
    return any(
        isinstance(out, dict) and any((spec or {}).get("cache") is False for spec in out.values())
        for kind in ("outs", "metrics", "plots")
        for out in stage.get(kind, [])
    )


# Two DVC 3.67 limits, both checked here: it saves no run-cache entry for a stage with a
# `cache: false` out that is not a metric or plot (Stage.run: no_cache_outs); and where it does
# save one, `dvc push --run-cache` leaves out the objects of the run's `cache: false` metrics and
# plots, so in another clone the entry is found but its outputs are not, and the stage re-runs.
@pytest.mark.xfail(
    train_has_uncached_outputs(),
    strict=True,
    reason="dvc.yaml's train stage has cache: false outputs, which DVC 3.67's run-cache does not "
    "carry to another clone",
)
def test_run_cache_spares_b_the_training_a_did(shared):
    b, _, _ = shared
    reset(b)
    done = b.dvc("exp", "run", "-S", "train.lr=0.003", "train@main-0")
    assert "train@main-0" not in ran(done), done.stdout
    assert "Stage 'train@main-0' is cached - skipping run" in done.stdout
