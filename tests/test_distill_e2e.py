"""Distillation in the pipeline: `dvc repro distill@<student>` on the tiny default data, the
teacher a variant's run; what it writes, what it re-runs, and a student that learnt."""

from __future__ import annotations

import pytest

from expressions.training.model_file import load_model
from helpers.e2e import Project, ran

TEACHER = "models/tuned/seed-0/model.pt"


def stages(done) -> set[str]:
    """What ran, less the locate stages that look at the data sources on every run."""
    return {s for s in ran(done) if not s.startswith("locate@")}


@pytest.fixture(scope="module")
def distilled(baseline, tmp_path_factory) -> Project:
    project = Project.copy(baseline, tmp_path_factory.mktemp("distill"))
    project.edit_params(
        **{"distill.fast": {"teacher": TEACHER, "copies": 2, "seed": 0, "epochs": 2}}
    )
    project.done = project.dvc("repro", "distill@fast")
    return project


def test_a_student_is_two_stages_over_the_teachers_run_and_retrains_no_variant(distilled):
    assert stages(distilled.done) == {"teach@fast", "distill@fast"}
    folder = distilled.path / "models" / "students" / "fast"
    assert {p.name for p in folder.iterdir()} >= {"model.pt", "model.onnx"}
    targets = distilled.path / "data" / "teacher" / "fast.npz"
    assert targets.exists()
    again = distilled.dvc("repro", "distill@fast")
    assert stages(again) == set()


def test_the_student_learnt_from_its_teacher_and_its_int8_file_agrees(distilled):
    metrics = distilled.read_json("metrics/students/fast.json")
    student, teacher = metrics["student"], metrics["teacher"]
    assert metrics["test_images"] > 0
    low, high = student["accuracy_interval"]
    assert low <= student["accuracy"] <= high
    assert metrics["agreement"] >= 0.6, metrics  # two epochs from the teacher's weights
    # the teacher's labels came through onnxruntime and its views: they score what test@ scored
    assert (
        teacher["accuracy"]
        == distilled.read_json("metrics/runs/tuned/seed-0/test.json")["accuracy"]
    )
    assert "student - teacher" in metrics["difference"]
    int8 = metrics["int8"]
    assert int8["val"]["faces"] > 0
    if int8["kept"]:
        assert int8["test"]["agreement"] >= 0.95, int8
        assert (distilled.path / "models/students/fast/model.int8.onnx").exists()


def test_a_changed_temperature_retrains_the_student_but_labels_nothing_again(distilled):
    distilled.edit_params(**{"distill.fast.temperature": 3.0})
    done = distilled.dvc("repro", "distill@fast")
    assert stages(done) == {"distill@fast"}
    shown = distilled.dvc("metrics", "show", "--json").stdout
    assert "students/fast.json" in shown


def test_a_student_with_a_network_of_its_own_trains_from_fresh_weights(distilled):
    """The teacher (tuned) has four blocks: its weights cannot even load into two."""
    small = {"kernel": 3, "depth": 2, "channels": [8, 16], "hidden": 16, "dropout": 0.0}
    entry = {"teacher": TEACHER, "copies": 1, "seed": 0, "epochs": 2, "int8": False}
    distilled.edit_params(**{"distill.small": {**entry, "model": small}})
    done = distilled.dvc("repro", "distill@small")
    assert stages(done) == {"teach@small", "distill@small"}
    student = load_model(distilled.path / "models/students/small/model.pt")
    assert (student.variant.model.depth, student.variant.model.channels) == (2, (8, 16))
    metrics = distilled.read_json("metrics/students/small.json")
    assert metrics["test_images"] > 0 and "student - teacher" in metrics["difference"]
