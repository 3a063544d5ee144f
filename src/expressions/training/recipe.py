"""The recipe pieces a variant can switch on: learning-rate schedule, optimizer, early stopping,
class balancing and batched augmentation. All off in params.yaml's base, which is the study's.

Learning rate: set before every optimizer step as a function of the step alone (nanoGPT's
get_lr), so a resumed run needs no scheduler state: linear warm-up over `warmup_epochs`, then
none | cosine (down to 0 at the last step) | step (x0.1 at 50% and 75% of the remaining steps);
or onecycle (Smith's: a cosine rise from lr/25 to lr over the first 30% of the steps, then a
cosine fall to 0), whose high middle lets a short run travel further.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from expressions.config import TrainSpec

ONECYCLE_RISE = 0.3  # share of the steps spent rising to the peak
ONECYCLE_START = 1 / 25  # the first step's rate, as a share of the peak (PyTorch's OneCycleLR)


def lr_at(step: int, steps_per_epoch: int, spec: TrainSpec) -> float:
    if spec.schedule == "onecycle":
        return onecycle(step, spec.epochs * steps_per_epoch, spec.lr)
    warm = spec.warmup_epochs * steps_per_epoch
    if step < warm:
        return spec.lr * (step + 1) / (warm + 1)
    progress = (step - warm) / max(1, spec.epochs * steps_per_epoch - warm)
    if spec.schedule == "cosine":
        return spec.lr * 0.5 * (1 + math.cos(math.pi * progress))
    if spec.schedule == "step":
        return spec.lr * 0.1 ** ((progress >= 0.5) + (progress >= 0.75))
    return spec.lr


def onecycle(step: int, total: int, peak: float) -> float:
    rise = max(1, round(ONECYCLE_RISE * total))
    if step < rise:
        return peak * (
            ONECYCLE_START + (1 - ONECYCLE_START) * (1 - math.cos(math.pi * step / rise)) / 2
        )
    return peak * 0.5 * (1 + math.cos(math.pi * (step - rise) / max(1, total - rise)))


def make_optimizer(net: nn.Module, spec: TrainSpec) -> torch.optim.Optimizer:
    """Adam (AdamW with weight decay); a pretrained backbone's parameters in a group of their
    own whose `lr_scale` is train.backbone_lr, so the fresh head learns faster than the
    features it starts from. The training loop sets each group's lr to lr_at(...) * lr_scale."""
    backbone = net.backbone_parameters() if hasattr(net, "backbone_parameters") else []
    ids = {id(p) for p in backbone}
    head = [p for p in net.parameters() if id(p) not in ids]
    groups = [{"params": head, "lr_scale": 1.0}]
    if backbone:
        groups.append({"params": backbone, "lr_scale": spec.backbone_lr})
    for group in groups:
        group["lr"] = spec.lr * group["lr_scale"]
    if spec.weight_decay > 0:
        return torch.optim.AdamW(groups, lr=spec.lr, weight_decay=spec.weight_decay)
    return torch.optim.Adam(groups, lr=spec.lr)


def early_stopped(history: list[dict[str, float]], patience: int) -> bool:
    """No better validation loss in the last `patience` epochs."""
    if patience == 0 or len(history) <= patience:
        return False
    return len(history) - 1 - kept_index(history, patience) >= patience


def kept_index(history: list[dict[str, float]], patience: int) -> int:
    if patience == 0:
        return len(history) - 1
    return int(np.argmin([h["val_loss"] for h in history]))


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse class frequency, scaled so a balanced set gets 1.0 everywhere (sklearn's "balanced")."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return np.divide(len(labels), num_classes * counts, out=np.zeros_like(counts), where=counts > 0)


@dataclass(frozen=True)
class Augment:
    rotate: float  # degrees either way
    translate: float  # fraction of the side either way
    crop: float  # smallest crop side, as a fraction of the side

    @classmethod
    def from_spec(cls, spec: TrainSpec) -> Augment | None:
        return cls(spec.rotate, spec.translate, spec.crop) if spec.augment else None


def random_affine(n: int, augment: Augment, generator: torch.Generator) -> torch.Tensor:
    """[n, 2, 3] matrices for affine_grid: mirror half the images, rotate, crop, shift.

    In affine_grid's units the image spans [-1, 1]: a crop of side c is a scale by c whose window
    may sit anywhere inside the image (shift up to 1 - c), on top of the translation (2 * t).
    """
    u = torch.rand(n, 5, generator=generator, dtype=torch.float64)
    flip = torch.where(u[:, 0] < 0.5, -1.0, 1.0)
    angle = (2 * u[:, 1] - 1) * math.radians(augment.rotate)
    scale = augment.crop + (1 - augment.crop) * u[:, 2]
    shift = (2 * u[:, 3:] - 1) * (2 * augment.translate + 1 - scale)[:, None]
    cos, sin = angle.cos() * scale, angle.sin() * scale
    rows = (cos * flip, -sin, shift[:, 0], sin * flip, cos, shift[:, 1])
    return torch.stack(rows, dim=1).view(n, 2, 3).float()


def augment_batch(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """One resampling for the whole batch; pixels from outside the image are black.

    A DDP rank's share of a last batch smaller than the world is empty: nothing to resample.
    """
    if len(x) == 0:
        return x
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
