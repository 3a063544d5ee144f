"""The resume point: everything an interrupted run needs, and a fingerprint saying whose it is.

The checkpoint holds no random-generator state on purpose: each epoch reseeds its order,
augmentation and dropout from (seed, epoch, rank), which replays identically after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from expressions.atomic import atomic_path
from expressions.config import VariantConfig


def fingerprint(variant: VariantConfig, dataset: Path, code: Iterable[Path]) -> str:
    """Whether a checkpoint belongs to this run: same settings, same data, same training code.

    `code` is every source file the train stage runs (`sourcefiles.local_modules` of its script),
    the same list the deps test holds against the train stage's `deps:` in dvc.yaml.
    """
    digest = hashlib.sha256(variant.to_json().encode())
    for path in sorted(code):
        digest.update(Path(path).read_bytes())
    with open(dataset, "rb") as fh:
        digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def load_checkpoint(path: Path | None, fingerprint: str) -> dict | None:
    if path is None or not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["fingerprint"] != fingerprint:
        print(f"note: {path} is from other settings, data or code; starting afresh")
        return None
    print(f"resuming from {path} after epoch {len(state['history'])}")
    return state


def cpu_copy(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}


def save_checkpoint(
    path: Path,
    fingerprint: str,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    history: list[dict],
    best: dict | None,
) -> None:
    state = {
        "fingerprint": fingerprint,
        "model": cpu_copy(net),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict(),
        "history": history,
        "best": best,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
