"""Distillation and int8: the student's settings, the fixed copies, the soft loss, a student that
learns what the stored probabilities say (not the labels), and int8 files that agree with float32.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from expressions.config import Run, parse_params
from expressions.core.errors import ConfigError
from expressions.data.dataset import Merged
from expressions.data.views import views
from expressions.release.export import export_onnx
from expressions.release.onnx_model import OnnxClassifier
from expressions.release.quantize import (
    CALIBRATION_FACES,
    _calibration,
    compare,
    int8_model,
    quantize_int8,
)
from expressions.training.distill import SoftTargets, fixed_copies, soft_loss_sum
from expressions.training.loop import train
from expressions.training.model_file import load_model
from expressions.training.recipe import Augment
from helpers.e2e import tiny_params
from helpers.photos import save_tiny_model, tiny_variant

TEACHER = "models/tuned/seed-0/model.pt"


def params_with(**students: dict):
    return parse_params(tiny_params(**{f"distill.{k}": v for k, v in students.items()}))


def test_a_student_is_its_teachers_network_in_one_view_with_the_batch_size_of_params():
    params = params_with(fast={"teacher": TEACHER, "copies": 2, "seed": 0, "epochs": 3})
    spec = params.student("fast")
    assert (spec.temperature, spec.weight, spec.epochs, spec.int8) == (2.0, 0.9, 3, True)
    teacher = tiny_variant("tuned")
    assert teacher.train.tta_flip  # tuned averages the mirror: the student must not
    run = spec.student("fast", teacher, params.train.batch_size)
    student = run.variant
    assert run.seed == 0 and student.name == "fast"
    assert student.views() == [student.views()[0]] and len(student.views()) == 1
    assert (student.model, student.classes) == (teacher.model, teacher.classes)
    assert (student.train.epochs, student.train.augment, student.train.batch_size) == (3, False, 32)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (
            {"teacher": TEACHER, "copies": 0, "seed": 0},
            "distill.fast.copies is 0; allowed range [1, 32]",
        ),
        (
            {"teacher": TEACHER, "copies": 1, "seed": 0, "temprature": 3},
            "did you mean temperature?",
        ),
        ({"copies": 2, "seed": 0}, "distill.fast.teacher is missing"),
        ({"teacher": "", "copies": 1, "seed": 0}, "distill.fast.teacher is empty"),
        ({"teacher": TEACHER, "copies": 1}, "distill.fast.seed is missing"),
    ],
)
def test_a_bad_student_entry_is_one_sentence_naming_the_key(entry, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        params_with(fast=entry)


def test_a_student_named_like_a_variant_is_refused():
    with pytest.raises(ConfigError, match=re.escape("distill.main has the name of a variant")):
        params_with(main={"teacher": TEACHER, "copies": 1, "seed": 0})
    with pytest.raises(
        ConfigError, match=re.escape("student 'nope' is not in params.yaml distill")
    ):
        params_with(fast={"teacher": TEACHER, "copies": 1, "seed": 0}).student("nope")


def test_an_input_size_for_a_study_cnn_teacher_is_refused():
    params = params_with(fast={"teacher": TEACHER, "copies": 1, "seed": 0, "input_size": 64})
    with pytest.raises(ConfigError, match="input_size applies to ImageNet backbones"):
        params.student("fast").student("fast", tiny_variant("tuned"), params.train)


SMALL = {"kernel": 3, "depth": 2, "channels": [8, 16], "hidden": 16, "dropout": 0.0}


def test_a_student_with_a_network_of_its_own_keeps_the_teachers_classes_and_views_one():
    params = params_with(fast={"teacher": TEACHER, "copies": 1, "seed": 0, "model": SMALL})
    spec = params.student("fast")
    teacher = tiny_variant("tuned")
    student = spec.student("fast", teacher, params.train.batch_size).variant
    assert (student.model.depth, student.model.channels, student.model.arch) == (
        2,
        (8, 16),
        "study",
    )
    assert student.classes == teacher.classes and student.image_size == teacher.image_size
    assert len(student.views()) == 1


@pytest.mark.parametrize(
    ("model", "input_size", "words"),
    [
        ({**SMALL, "depht": 2}, 0, "unknown key distill.fast.model.depht"),
        ({**SMALL, "depth": 9}, 0, "distill.fast.model.depth is 9; allowed range [1, 8]"),
        ({**SMALL, "depth": 5}, 0, "distill.fast.model.depth=5 pools a 24 px image"),
        (SMALL, 64, "with distill.fast.model give model.input_size instead"),
    ],
)
def test_a_bad_student_network_is_one_sentence_naming_the_key(model, input_size, words):
    entry = {"teacher": TEACHER, "copies": 1, "seed": 0, "model": model, "input_size": input_size}
    with pytest.raises(ConfigError, match=re.escape(words)):
        params = params_with(fast=entry)
        params.student("fast").student("fast", tiny_variant("tuned"), params.train.batch_size)


def test_fixed_copies_start_with_the_faces_and_repeat_for_the_same_seed():
    x = np.random.default_rng(0).integers(0, 256, (10, 24, 24), dtype=np.uint8)
    augment = Augment(rotate=10, translate=0.1, crop=0.9)
    copies = fixed_copies(x, 3, augment, seed=1)
    assert copies.shape == (30, 24, 24) and copies.dtype == np.uint8
    assert np.array_equal(copies[:10], x)
    assert not np.array_equal(copies[10:20], x) and not np.array_equal(copies[10:20], copies[20:])
    assert np.array_equal(copies, fixed_copies(x, 3, augment, seed=1))
    assert not np.array_equal(copies, fixed_copies(x, 3, augment, seed=2))


def test_the_soft_loss_is_cross_entropy_at_weight_0_and_least_where_student_matches_teacher():
    y = torch.tensor([0, 1, 2])
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    logits = torch.randn(3, 3)
    ce = torch.nn.functional.cross_entropy(logits, y, reduction="sum")
    assert torch.isclose(soft_loss_sum(logits, y, p, 2.0, 0.0), ce)
    matched = soft_loss_sum(p.log(), y, p, 1.0, 1.0)
    assert matched.abs() < 1e-5  # KL(p || p) = 0
    assert soft_loss_sum(logits, y, p, 1.0, 1.0) > matched


def test_a_student_learns_the_stored_probabilities_not_the_labels():
    """The teacher's probabilities say class (y + 1) mod C; with weight 1 the student follows
    them, so it disagrees with every true label it was given."""
    variant = tiny_variant("main")
    rng = np.random.default_rng(0)
    n, c, size = 256, len(variant.classes), variant.image_size
    y = rng.integers(0, c, n)
    x = np.clip(y[:, None, None] * 60 + rng.integers(0, 40, (n, size, size)), 0, 255)
    x = x.astype(np.uint8)
    split = np.r_[np.zeros(192), np.ones(64)].astype(np.uint8)
    merged = Merged(x, y, split, variant.classes)
    teacher_says = np.eye(c, dtype=np.float32)[(y[:192] + 1) % c] * 0.97 + 0.03 / c
    soft = SoftTargets(x[:192], y[:192], teacher_says, temperature=1.0, weight=1.0)
    student = replace(variant, train=replace(variant.train, epochs=8, lr=0.01))
    trained = train(Run(student), merged, soft=soft)
    with torch.inference_mode():
        pred = trained.model.eval()(torch.from_numpy(x[:192, None]).float() / 255).argmax(1)
    follows_teacher = (pred.numpy() == (y[:192] + 1) % c).mean()
    assert follows_teacher > 0.9, follows_teacher


def test_int8_agrees_with_float32_and_keeps_its_metadata(tmp_path):
    pt = save_tiny_model(tmp_path / "model.pt", "main")
    export_onnx(load_model(pt), tmp_path / "model.onnx")
    size = tiny_variant("main").image_size
    rng = np.random.default_rng(0)
    x = rng.random(600)[:, None, None] * 200 + rng.integers(0, 55, (600, size, size))
    x = x.astype(np.uint8)
    quantize_int8(tmp_path / "model.onnx", tmp_path / "model.int8.onnx", x[:300])
    int8 = OnnxClassifier.load(tmp_path / "model.int8.onnx")
    assert int8.classes == OnnxClassifier.load(tmp_path / "model.onnx").classes
    labels = OnnxClassifier.load(tmp_path / "model.onnx").proba(x[300:]).argmax(1)
    check = compare(tmp_path / "model.onnx", tmp_path / "model.int8.onnx", x[300:], labels)
    assert check.float32_accuracy == 1.0 and check.agreement >= 0.95, check


def test_an_int8_file_that_loses_more_than_the_tolerance_is_not_kept(tmp_path):
    pt = save_tiny_model(tmp_path / "model.pt", "main")
    export_onnx(load_model(pt), tmp_path / "model.onnx")
    size = tiny_variant("main").image_size
    x = np.random.default_rng(1).integers(0, 256, (200, size, size), dtype=np.uint8)
    labels = OnnxClassifier.load(tmp_path / "model.onnx").proba(x).argmax(1)
    kept = int8_model(tmp_path / "model.onnx", tmp_path / "a.onnx", (x, labels), 1.0)
    assert (tmp_path / "a.onnx").exists() and kept.float32_accuracy == 1.0
    strict = int8_model(tmp_path / "model.onnx", tmp_path / "b.onnx", (x, labels), -1.0)
    assert not (tmp_path / "b.onnx").exists() and strict.loss > -1.0


@pytest.mark.parametrize("flip, crops", [(False, False), (True, True)])
def test_int8_calibrates_on_as_many_images_for_ten_views_as_for_one(flip, crops):
    """onnxruntime holds every calibration activation in memory: ten views must not mean ten
    times the images (a ten-view model's calibration ran out of memory that way)."""
    faces = np.random.default_rng(0).integers(0, 256, (CALIBRATION_FACES, 48, 48), np.uint8)
    shown = views(48, flip, crops, 0.9)
    reader = _calibration(faces, shown)
    images = 0
    while (batch := reader.get_next()) is not None:
        images += len(batch["pixels"])
    assert len(shown) == (10 if crops else 1)
    assert CALIBRATION_FACES - len(shown) < images <= CALIBRATION_FACES
