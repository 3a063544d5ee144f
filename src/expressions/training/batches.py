"""Batches cut from uint8 arrays held in memory once, so an epoch never decodes an image file.

Every random choice of an epoch (order, augmentation, dropout) comes from a seed derived from
(the run's seed, epoch): a resumed run replays exactly the epochs an interrupted one would have run,
and every DDP rank knows the whole epoch's global batches without communicating.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from expressions.data.views import WHOLE, View
from expressions.training.device import autocast

ORDER, AUGMENT, DROPOUT, MIX = range(4)  # independent random streams of one epoch


def derived_seed(*keys: int) -> int:
    """A well-mixed seed for a (seed, epoch, stream, ...) tuple; nearby tuples do not correlate."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0])


def pixel_stats(x: np.ndarray) -> tuple[float, float]:
    """Mean and std of `x / 255`, from a histogram: exact, and no float copy of the images."""
    counts = np.zeros(256, np.int64)
    for start in range(0, len(x), 4096):
        counts += np.bincount(x[start : start + 4096].ravel(), minlength=256)
    values = np.arange(256) / 255.0
    mean = counts @ values / counts.sum()
    std = math.sqrt(counts @ (values - mean) ** 2 / counts.sum())
    return float(mean), max(std, 1 / 255)  # a blank training set must not divide by zero


def epoch_order(labels: np.ndarray, seed: int, epoch: int, balance: str) -> np.ndarray:
    """The epoch's sample order: a permutation, or for "sampler" len(labels) class-balanced draws."""
    rng = np.random.default_rng(derived_seed(seed, epoch, ORDER))
    if balance != "sampler":
        return rng.permutation(len(labels))
    per_sample = 1.0 / np.bincount(labels)[labels]
    return rng.choice(len(labels), size=len(labels), p=per_sample / per_sample.sum())


def global_batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def as_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 [B, S, S] -> float [B, 1, S, S] in [0, 1]; the model normalises the rest itself."""
    return x.unsqueeze(1).float().div_(255)


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Pinned host memory lets the copy overlap with the GPU's work on the previous batch."""
    if device.type != "cuda":
        return t
    return t.pin_memory().to(device, non_blocking=True)


def take(x: torch.Tensor, y: torch.Tensor, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.from_numpy(index)
    return x.index_select(0, rows), y.index_select(0, rows)


def batch_stream(
    x: torch.Tensor, y: torch.Tensor, batches: list[np.ndarray], workers: int, pin: bool
) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """The batches' (images, labels), sliced here or, with workers > 0, in loader processes.

    The loader gets a generator of its own: seeding its workers from the global one would
    shift the dropout masks, and a run with workers would differ from one without.
    """
    cut = partial(take, x, y)
    if workers == 0:
        return map(cut, batches)
    return DataLoader(
        batches,
        batch_size=None,
        num_workers=workers,
        collate_fn=cut,
        pin_memory=pin,
        generator=torch.Generator().manual_seed(0),
    )


def as_view(xb: torch.Tensor, view: View) -> torch.Tensor:
    """A batch [B, 1, S, S] as `view` shows it: cropped and resized back, then mirrored
    (data/views.py does the same in NumPy for ONNX models)."""
    if view.window is not None:
        top, left, side = view.window
        crop = xb[..., top : top + side, left : left + side]
        xb = F.interpolate(crop, size=xb.shape[-2:], mode="bilinear", align_corners=False)
    return xb.flip(-1) if view.mirror else xb


def forward_all(
    model: nn.Module,
    x: torch.Tensor,
    batch_size: int,
    device: torch.device,
    amp: torch.dtype | None = None,
    view: View = WHOLE,
) -> torch.Tensor:
    """Float32 logits [N, C] on the CPU for uint8 images [N, S, S] seen as `view`, in eval mode,
    no autograd."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            xb = as_view(as_input(to_device(x[start : start + batch_size], device)), view)
            with autocast(device, amp):
                out.append(model(xb).float().cpu())
    return torch.cat(out)


def view_logits(
    model: nn.Module,
    x: torch.Tensor,
    batch_size: int,
    device: torch.device,
    views: list[View],
    amp: torch.dtype | None = None,
) -> list[torch.Tensor]:
    """Logits of every view: what test-time augmentation averages (after a softmax each)."""
    return [forward_all(model, x, batch_size, device, amp, view) for view in views]
