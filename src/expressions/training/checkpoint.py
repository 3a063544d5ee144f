"""The resume point: everything an interrupted run needs, and a fingerprint saying whose it is.

The checkpoint holds no random-generator state on purpose: each epoch reseeds its order,
augmentation and dropout from (seed, epoch, rank), which replays identically after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from expressions.config import Run
from expressions.core.atomic import atomic_path


def fingerprint(run: Run, dataset: Path, code: Iterable[Path]) -> str:
    """Whether a checkpoint belongs to this run: same settings, same data, same training code.

    `code` is every source file the train stage runs (`sourcefiles.local_modules` of its script),
    the same list the deps test holds against the train stage's `deps:` in dvc.yaml.
    """
    digest = hashlib.sha256(run.to_json().encode())
    for path in sorted(code):
        digest.update(Path(path).read_bytes())
    with open(dataset, "rb") as fh:
        digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


_KEYS = ("fingerprint", "model", "optimizer", "scaler", "history", "best")


def load_checkpoint(path: Path | None, fingerprint: str) -> dict | None:
    """The state to resume from, or None to start afresh.

    A checkpoint that cannot be read (truncated by a full disk, overwritten, not ours) is only a
    lost head start: it is discarded with a one-line warning, never a reason to stop training.
    """
    if path is None or not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or any(key not in state for key in _KEYS):
            raise ValueError("not a checkpoint of this project")
    except Exception as err:  # torch.load raises many types for a damaged file; all mean this
        gist = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        print(f"warning: {path} is unreadable ({gist}); discarding it and training from the start")
        path.unlink(missing_ok=True)
        return None
    if state["fingerprint"] != fingerprint:
        print(f"note: {path} is from other settings, data or code; starting afresh")
        return None
    print(f"resuming from {path} after epoch {len(state['history'])}")
    return state


def cpu_copy(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}


def save_checkpoint(
    path: Path, fingerprint: str, setup: Any, history: list[dict], best: dict | None
) -> None:
    """`setup`: the loop's Setup (network, optimizer, scaler and the weights' average, if any)."""
    state = {
        "fingerprint": fingerprint,
        "model": cpu_copy(setup.net),
        "optimizer": setup.optimizer.state_dict(),
        "scaler": setup.scaler.state_dict(),
        "history": history,
        "best": best,
        "ema": None if setup.ema is None else cpu_copy(setup.ema),
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
