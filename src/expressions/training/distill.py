"""Distillation: a teacher's test-time views taught to a one-view student.

The teacher's probabilities (the mean over all of its views: ten for a ten-crop model) are worth
computing once, not every epoch: they cost ten forward passes a face. So `teach` labels fixed
copies of the training faces (the faces themselves and augmented copies, drawn from a seed) and
stores them (data/teacher/<student>.npz); the student then trains on exactly those images with
`soft_loss`, starting from the teacher's weights (with `distill.<student>.model`: fresh ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from expressions.core.atomic import atomic_path
from expressions.core.errors import TrainingError
from expressions.training.batches import as_input, derived_seed
from expressions.training.recipe import Augment, augment_batch, random_affine

COPIES = 7  # random stream of the copies' augmentation (batches.py holds streams 0-3)
BATCH = 256  # faces warped at once


@dataclass(frozen=True)
class SoftTargets:
    """The student's training set: images, true labels and the teacher's probabilities."""

    x: np.ndarray  # uint8 [M, S, S]
    y: np.ndarray  # int64 [M]
    p: np.ndarray  # float32 [M, C], rows summing to 1
    temperature: float
    weight: float  # share of the soft loss; the rest is cross-entropy with y


def fixed_copies(x: np.ndarray, copies: int, augment: Augment, seed: int) -> np.ndarray:
    """[copies * N, S, S]: the faces, then copies-1 augmented copies, the same for the same seed."""
    out = [x]
    generator = torch.Generator().manual_seed(derived_seed(seed, COPIES))
    for _ in range(copies - 1):
        warped = []
        for start in range(0, len(x), BATCH):
            xb = as_input(torch.from_numpy(x[start : start + BATCH]))
            theta = random_affine(len(xb), augment, generator)
            warped.append((augment_batch(xb, theta)[:, 0] * 255).round().to(torch.uint8).numpy())
        out.append(np.concatenate(warped) if warped else x[:0])
    return np.concatenate(out)


def soft_loss_sum(
    logits: torch.Tensor, y: torch.Tensor, p: torch.Tensor, temperature: float, weight: float
) -> torch.Tensor:
    """weight x T^2 x KL(q_T || student_T) + (1 - weight) x cross-entropy, summed over the batch
    (the loop divides by the global batch size). q_T = softmax(log p / T): the teacher's averaged
    probabilities, softened as logits would be."""
    t = temperature
    q = F.softmax(p.clamp_min(1e-8).log() / t, dim=1)
    student = F.log_softmax(logits / t, dim=1)
    kl = F.kl_div(student, q, reduction="sum") * t * t
    hard = F.cross_entropy(logits, y, reduction="sum")
    return weight * kl + (1 - weight) * hard


def save_targets(
    path: Path, x: np.ndarray, y: np.ndarray, p: dict[str, np.ndarray], teacher: str
) -> None:
    """The copies, their labels and the teacher's probabilities: `p` has "train" (the copies'),
    "val" and "test" (the merged splits', in their order)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        arrays = {f"p_{split}": v.astype(np.float32) for split, v in p.items()}
        np.savez(fh, x=x, y=y, teacher=np.array(teacher), **arrays)


def load_targets(
    path: Path, temperature: float, weight: float
) -> tuple[SoftTargets, dict[str, np.ndarray]]:
    """The student's training set, and the teacher's val and test probabilities."""
    if not path.exists():
        raise TrainingError(f"{path} not found; run `dvc repro teach@{path.stem}` first")
    with np.load(path, allow_pickle=False) as z:
        soft = SoftTargets(z["x"], z["y"], z["p_train"], temperature, weight)
        return soft, {"val": z["p_val"], "test": z["p_test"]}
