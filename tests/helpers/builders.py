"""Builders shared by the unit tests: tiny datasets, a tiny recipe, stage loading, PNG checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from expressions.config import ModelSpec, Run, TrainSpec, VariantConfig
from expressions.data.dataset import SPLITS, Merged

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ("Angry", "Engaged", "Happy", "Neutral")
SIZE = 16
STUDY = dict(
    epochs=2, lr=3e-3, batch_size=16, amp="none", channels_last=True, augment=False,
    rotate=10.0, translate=0.1, crop=0.9, tta_crop=0.9, balance="none", label_smoothing=0.0,
    weight_decay=0.0, schedule="none", warmup_epochs=0, early_stopping=0, tta_flip=False,
)  # fmt: skip


def tiny(dropout: float = 0.3, **train: object) -> VariantConfig:
    """The study's recipe on a network small enough to train in a fraction of a second."""
    model = ModelSpec(kernel=3, depth=2, channels=(4, 8), hidden=16, dropout=dropout)
    return VariantConfig("tiny", CLASSES, SIZE, model, TrainSpec(**{**STUDY, **train}))


def tiny_run(dropout: float = 0.3, seed: int = 0, **train: object) -> Run:
    """tiny()'s recipe as one run, with `seed`."""
    return Run(tiny(dropout, **train), seed)


def quadrants(n: int = 192, seed: int = 0, val_shift: int = 0) -> Merged:
    """Class c brightens quadrant c of noise; 60/20/20 split. val_shift relabels validation
    images as the next class, so the better a model learns, the worse it validates."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 140, (n, SIZE, SIZE))
    half = SIZE // 2
    for i, c in enumerate(y):
        row, col = divmod(int(c), 2)
        x[i, row * half : (row + 1) * half, col * half : (col + 1) * half] += 60
    train, val = n * 6 // 10, n * 2 // 10
    split = np.repeat(np.array([0, 1, 2], np.uint8), [train, val, n - train - val])
    y = np.where(split == 1, (y + val_shift) % 4, y)
    return Merged(x.astype(np.uint8), y.astype(np.int64), split, CLASSES)


def make_merged(n: int = 60, side: int = 12, seed: int = 0) -> Merged:
    """A tiny merged dataset in which every class has images in every split."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % len(CLASSES)
    split = ((np.arange(n) // len(CLASSES)) % len(SPLITS)).astype(np.uint8)
    x = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    return Merged(x=x, y=y, split=split, classes=CLASSES)


def make_manifest(merged: Merged) -> pd.DataFrame:
    """The manifest contract: file,dataset,label,class,split, one row per image, same order."""
    n = len(merged.y)
    names = [CLASSES[c] for c in merged.y]
    return pd.DataFrame(
        {
            "file": [f"img{i}.png" for i in range(n)],
            "dataset": ["rafdb" if c != 1 else "fed2023" for c in merged.y],
            "label": names,
            "class": names,
            "split": [SPLITS[s] for s in merged.split],
        }
    )


def png_size(path: Path) -> tuple[int, int]:
    """Decode the PNG fully (a truncated file fails here) and return (width, height)."""
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        return image.size


def load_stage(name: str):
    spec = importlib.util.spec_from_file_location(f"stage_{name}", ROOT / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def capture_figures(monkeypatch, module) -> list:
    """Keep every Figure that `module` saves (it is still saved), to assert on what is drawn."""
    drawn = []
    original = module.save_png

    def keep(fig, path):
        drawn.append(fig)
        return original(fig, path)

    monkeypatch.setattr(module, "save_png", keep)
    return drawn


def image_axes(fig) -> list:
    """The panels of `fig` that show an image (empty slots of a grid are switched off)."""
    return [ax for ax in fig.axes if ax.images and ax.axison]


def params_with(dotted: str, value: object) -> dict:
    """The shipped params.yaml (read as the pipeline reads it) with one key set to `value`, as
    `dvc exp run -S` sets it (missing parents created)."""
    from expressions.config import read_yaml, set_dotted

    raw = read_yaml(ROOT / "params.yaml")
    set_dotted(raw, dotted, value)
    return raw
