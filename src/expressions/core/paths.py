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
# A run is one variant trained with one of train.seeds: its files sit in seed-<seed>/ folders.
MODELS = Path("models")  # MODELS/<variant>/seed-<seed>/model.pt
CHECKPOINTS = Path("checkpoints")  # CHECKPOINTS/<variant>/seed-<seed>/last.pt, while training
LIVE = Path("dvclive")  # LIVE/<variant>/seed-<seed>/: per-epoch curves
TRAINING = Path("metrics/training")  # TRAINING/<variant>/seed-<seed>.json: kept epoch, speed
RUNS = Path("metrics/runs")  # RUNS/<variant>/seed-<seed>/: a run's test.json, predictions.csv
TEST_METRICS = Path("metrics/test")  # TEST_METRICS/<variant>.json: the headline, over seeds
TABLES = Path("metrics/tables")  # TABLES/<variant>.json: per class, per seed, intervals
PLOTS = Path("plots")  # PLOTS/<variant>/: confusion, predictions, figures
REPORT_MD = Path("metrics/report.md")
REPORT_JSON = Path("metrics/report.json")


# How long a stage took, and how fast it ran: beside the outputs, never one of them, so that a
# re-run on the same machine leaves dvc.lock unchanged (no stage reads these; git ignores them).
TIMINGS = Path("timings")  # TIMINGS/<stage>/<variant>/seed-<seed>.json


def timing(stage: str, variant: str, seed: int) -> Path:
    return TIMINGS / stage / variant / f"{run(seed)}.json"


def input_note(dataset: str) -> Path:
    return RAW / f"{dataset}.input.json"


def source_record(dataset: str) -> Path:
    return RAW / f"{dataset}.source.json"


def config(variant: str) -> Path:
    return CONFIGS / f"{variant}.json"


def run(seed: int) -> str:
    return f"seed-{seed}"


def model(variant: str, seed: int) -> Path:
    return MODELS / variant / run(seed) / "model.pt"


def live(variant: str, seed: int) -> Path:
    return LIVE / variant / run(seed)


def training_log(variant: str, seed: int) -> Path:
    return TRAINING / variant / f"{run(seed)}.json"


def checkpoint(variant: str, seed: int) -> Path:
    return CHECKPOINTS / variant / run(seed) / "last.pt"


def run_metrics(variant: str, seed: int) -> Path:
    return RUNS / variant / run(seed) / "test.json"


def run_predictions(variant: str, seed: int) -> Path:
    return RUNS / variant / run(seed) / "predictions.csv"


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


def onnx_model(variant: str, seed: int) -> Path:
    return MODELS / variant / run(seed) / "model.onnx"


# Distillation (params.yaml distill): teach@<student> labels, distill@<student> trains.
TEACHER = Path(
    "data/teacher"
)  # TEACHER/<student>.npz: fixed copies and the teacher's probabilities
STUDENTS = MODELS / "students"  # STUDENTS/<student>/: model.pt, model.onnx, model.int8.onnx
STUDENT_METRICS = Path("metrics/students")  # STUDENT_METRICS/<student>.json


def teacher_targets(student: str) -> Path:
    return TEACHER / f"{student}.npz"


def student(name: str) -> Path:
    return STUDENTS / name


def student_metrics(name: str) -> Path:
    return STUDENT_METRICS / f"{name}.json"


def student_live(name: str) -> Path:
    return LIVE / "students" / name


def student_checkpoint(name: str) -> Path:
    return CHECKPOINTS / "students" / name / "last.pt"
