"""Every path the pipeline reads or writes, relative to the project root, written out once.

dvc.yaml names the same paths (it cannot import Python); tests/test_structure.py checks that each
one dvc.yaml declares is spelled the same here.
"""

from __future__ import annotations

import os
from pathlib import Path

PARAMS = Path("params.yaml")
CODE = Path("code")  # CODE/<script>.json: the source files each stage script runs, hashed
RAW = Path("data/raw")  # RAW/<dataset>/ as shipped, RAW/<dataset>.source.json its provenance
CLEAN = Path("data/clean")  # CLEAN/<dataset>/ grayscale, resized
CLEAN_REPORTS = Path("metrics/clean")  # CLEAN_REPORTS/<dataset>.json: every skipped file
MERGED = Path("data/merged")
DATASET = MERGED / "dataset.npz"
MANIFEST = MERGED / "manifest.csv"
DATA_TOTALS = Path("metrics/data.json")
DATA_DETAILS = Path("metrics/data_details.json")
DATA_PLOTS = Path("plots/data")
CONFIGS = Path("configs")  # CONFIGS/<variant>.json: a variant's effective settings
MODELS = Path("models")  # MODELS/<variant>/model.pt
CHECKPOINTS = Path("checkpoints")  # CHECKPOINTS/<variant>/last.pt, only while training
LIVE = Path("dvclive")  # LIVE/<variant>/: per-epoch curves
TEST_METRICS = Path("metrics/test")  # TEST_METRICS/<variant>.json: Table 2, the headline metrics
TRAINING = Path("metrics/training")  # TRAINING/<variant>.json: kept epoch, speed
TABLES = Path("metrics/tables")  # TABLES/<variant>.json: Table 1 per class, counts, speed
PLOTS = Path("plots")  # PLOTS/<variant>/: confusion, predictions, figures
REPORT_MD = Path("metrics/report.md")
REPORT_JSON = Path("metrics/report.json")


def input_note(dataset: str) -> Path:
    return RAW / f"{dataset}.input.json"


def source_record(dataset: str) -> Path:
    return RAW / f"{dataset}.source.json"


def config(variant: str) -> Path:
    return CONFIGS / f"{variant}.json"


def model(variant: str) -> Path:
    return MODELS / variant / "model.pt"


def training_log(variant: str) -> Path:
    return TRAINING / f"{variant}.json"


def checkpoint(variant: str) -> Path:
    return CHECKPOINTS / variant / "last.pt"


def test_metrics(variant: str) -> Path:
    return TEST_METRICS / f"{variant}.json"


def tables(variant: str) -> Path:
    return TABLES / f"{variant}.json"


def user_path(value: str) -> Path:
    """A path the user wrote in params.yaml (data.local.*), found where they meant it.

    Relative paths are relative to the project root. A queued experiment (`dvc exp run --queue`)
    runs in a temporary copy that holds only git- and DVC-tracked files; DVC sets DVC_ROOT there
    to the user's own workspace, so an untracked dataset beside the project is still found.
    A path that exists in the copy (a file tracked with `dvc add`) wins.
    """
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists() or not os.environ.get("DVC_ROOT"):
        return path
    return Path(os.environ["DVC_ROOT"]) / path


# The model's way out (serving): export@<variant> and release.
RELEASE = MODELS / "release"  # model.pt, model.onnx, MODEL_CARD.md; the default --model
RELEASE_METRICS = Path("metrics/release.json")  # temperature, ECE before/after
RELIABILITY = RELEASE / "reliability.png"  # a plot inside the artifact


def onnx_model(variant: str) -> Path:
    return MODELS / variant / "model.onnx"
