"""runtime.processes: `dvc repro` / `dvc exp run` train data-parallel through PyTorch's launcher.

On CPU over Gloo, as the README's "Several processes or GPUs" section types it: two workers give
the weights one process gives (dropout off: its masks are drawn per rank), and a worker killed
mid-run fails the stage with one sentence, after which `dvc repro` resumes from the checkpoint.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from expressions.training.model_file import load_model
from helpers.e2e import Project, environment, tiny_params

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    # float32: bf16 rounds each rank's share of a batch apart from the whole batch
    params = tiny_params(**{"model.dropout": 0.0, "train.amp": "none"})
    return Project(tmp_path_factory.mktemp("ddp"), params)


def weights(project: Project) -> dict[str, torch.Tensor]:
    model = load_model(project.path / "models" / "main" / "seed-0" / "model.pt").model
    return model.state_dict()


def workers(project: Project, local_rank: int) -> list[int]:
    """Pids of this project's training workers with LOCAL_RANK=local_rank, from /proc."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            env = (proc / "environ").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except (OSError, ValueError):
            continue
        rank = f"LOCAL_RANK={local_rank}".encode()
        if b"stages/train.py" in cmdline and cwd == str(project.path) and rank in env:
            found.append(int(proc.name))
    return found


def test_two_processes_train_the_weights_of_one(project):
    project.dvc("repro", "train@main-0")
    one = weights(project)
    project.edit_params(**{"runtime.processes": 2})  # how fast, not what: forced to re-run
    done = project.dvc("repro", "-f", "train@main-0")
    assert "cpu x 2 processes" in done.stdout
    assert done.stdout.count("Epoch [2/2]") == 1  # rank 0 alone prints
    two = weights(project)
    assert one.keys() == two.keys()
    for name, value in two.items():
        gap = (value.double() - one[name].double()).abs().max().item()
        assert gap <= 1e-5, f"{name}: {gap}"
    assert "train@main-0" not in project.dvc("status", "train@main-0").stdout


def test_killed_worker_fails_the_stage_and_the_next_run_resumes(project):
    project.edit_params(**{"runtime.processes": 2, "train.epochs": 40})
    checkpoint = project.path / "checkpoints" / "main" / "seed-0" / "last.pt"
    run = subprocess.Popen(
        ["dvc", "repro", "train@main-0"],
        cwd=project.path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not (checkpoint.exists() and workers(project, 1)):  # an epoch is done; kill rank 1
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[0]
        time.sleep(0.05)
    (victim,) = workers(project, 1)
    os.kill(victim, signal.SIGKILL)
    output = run.communicate(timeout=180)[0]

    assert run.returncode != 0
    assert (
        f"error: training worker 1 of 2 (pid {victim}) was killed by SIGKILL and the others "
        "were stopped; run it again to resume from checkpoints/main/seed-0/last.pt"
    ) in output
    assert not (project.path / "models" / "main" / "seed-0" / "model.pt").exists()

    done = project.dvc("repro", "train@main-0")
    assert "resuming from checkpoints/main/seed-0/last.pt after epoch " in done.stdout
    assert "Epoch [40/40]" in done.stdout
    assert not checkpoint.exists()
    rows = (
        (project.path / "dvclive/main/seed-0/plots/metrics/val_loss.tsv").read_text().splitlines()
    )
    assert len(rows) == 1 + 40
