"""Mixup and CutMix: each training batch blended with a shuffled copy of itself, the loss with
both labels in proportion (Zhang et al. 2018; Yun et al. 2019).

Both are regularisers for a long run on a small set such as FER2013's 28k faces: a network that
cannot memorise a face's exact pixels learns more of what the expression shares. The blend is
drawn from the epoch's own random stream (seed, epoch), so a resumed run replays it. Under DDP
each rank shuffles within its share of the batch, so a run mixes differently from one process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from expressions.config import TrainSpec


@dataclass(frozen=True)
class Mixing:
    mixup: float  # Beta(a, a) of the blend weight; 0 = off
    cutmix: float  # Beta(a, a) of the kept area; 0 = off

    @classmethod
    def from_spec(cls, spec: TrainSpec) -> Mixing | None:
        return cls(spec.mixup, spec.cutmix) if spec.mixup or spec.cutmix else None


@dataclass(frozen=True)
class Mixed:
    x: torch.Tensor
    y: torch.Tensor  # the batch's own labels, weighted by lam
    y_other: torch.Tensor  # the shuffled copy's labels, weighted by 1 - lam
    lam: float


def mix(x: torch.Tensor, y: torch.Tensor, mixing: Mixing, rng: np.random.Generator) -> Mixed:
    """Blend [B, 1, S, S] images with a permutation of themselves: mixup (pixels averaged) or,
    with both on, CutMix half the time (a box of the other image pasted in; lam = area kept)."""
    perm = torch.from_numpy(rng.permutation(len(x))).to(x.device)
    cut = mixing.cutmix > 0 and (mixing.mixup == 0 or rng.random() < 0.5)
    lam = float(rng.beta(*(2 * [mixing.cutmix if cut else mixing.mixup])))
    if not cut:
        return Mixed(lam * x + (1 - lam) * x[perm], y, y[perm], lam)
    side_y, side_x = x.shape[-2:]
    h, w = round(side_y * np.sqrt(1 - lam)), round(side_x * np.sqrt(1 - lam))
    top, left = int(rng.integers(0, side_y - h + 1)), int(rng.integers(0, side_x - w + 1))
    mixed = x.clone()
    mixed[..., top : top + h, left : left + w] = x[perm][..., top : top + h, left : left + w]
    return Mixed(mixed, y, y[perm], 1 - h * w / (side_y * side_x))
