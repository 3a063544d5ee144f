"""runtime.processes > 1: the train stage restarts itself as N workers through PyTorch's launcher.

`dvc repro` runs `python stages/train.py <variant>` as one process. To train data-parallel, that
process hands the same command to torch.distributed's elastic launcher (what `torchrun` is built
on): it starts N workers with the environment `distributed.launch` reads, rendezvous on a free
local port, and if one worker dies it stops the others, so the stage fails as a whole and the
next run resumes from the last checkpoint. The launching process itself writes nothing; rank 0
writes every output, exactly as under `torchrun`, so DVC records the outputs as usual.
Multi-node runs keep using `torchrun` on the stage script (the README says how).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import torch
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from expressions.core.errors import TrainingError


def worker_count(setting: int | str) -> int:
    """runtime.processes as a number: 'auto' is one per visible GPU, or 1 without CUDA."""
    if setting == "auto":
        return torch.cuda.device_count() if torch.cuda.is_available() else 1
    return int(setting)


def under_launcher() -> bool:
    """Whether this process is already a worker of torchrun or of run_workers (both set it)."""
    return "LOCAL_RANK" in os.environ


def run_workers(script: Path, args: list[str], processes: int, checkpoint: Path) -> None:
    """Run `python script *args` as `processes` workers on this machine and wait for all.

    A failed worker becomes one TrainingError sentence; its own traceback, if it printed one,
    is above it in the log.
    """
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=processes,
        run_id=f"train-{uuid.uuid4().hex[:12]}",
        rdzv_backend="c10d",  # torchrun --standalone's rendezvous: a store on a free local port
        rdzv_endpoint="localhost:0",
        max_restarts=0,  # a restart would redo the epoch; resuming is `dvc repro`'s job
        monitor_interval=0.5,
    )
    try:
        elastic_launch(config, entrypoint=sys.executable)(str(script), *args)
    except ChildFailedError as err:
        rank, failure = err.get_first_failure()
        how = (
            f"was killed by {failure.signal_name()}"
            if failure.exitcode < 0
            else f"exited with code {failure.exitcode}"
        )
        resume = (
            f"run it again to resume from {checkpoint}"
            if checkpoint.exists()
            else "no epoch had finished, so a new run starts afresh"
        )
        raise TrainingError(
            f"training worker {rank} of {processes} (pid {failure.pid}) {how} and the others "
            f"were stopped; {resume}"
        ) from None
