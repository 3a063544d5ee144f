"""Temperature scaling and the release: calibration maths, and the registered model end to end
(pipeline, annotated GTO tag, git + DVC push, `dvc artifacts get`, `expressions predict`)."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from expressions.release import calibration
from expressions.release.calibration import softmax
from expressions.release.reliability import reliability_diagram
from helpers.e2e import Project, environment
from helpers.photos import group_photo


def overconfident(n: int = 4000, classes: int = 4, true_t: float = 3.0, seed: int = 0):
    """Labels drawn from softmax(z / true_t): logits z are over-confident by exactly true_t."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (n, classes))
    p = softmax(logits, true_t).astype(np.float64)
    labels = np.array([rng.choice(classes, p=row / row.sum()) for row in p])
    return logits, labels


def test_the_fitted_temperature_recovers_the_true_one_and_lowers_ece():
    logits, labels = overconfident()
    t = calibration.fit_temperature([logits], labels)
    assert abs(t - 3.0) < 0.3
    before = calibration.ece(softmax(logits), labels)
    after = calibration.ece(softmax(logits, t), labels)
    assert after < before / 3 and after < 0.03
    assert (softmax(logits, t).argmax(1) == logits.argmax(1)).all()  # predictions unchanged


def test_ece_is_the_weighted_gap_between_confidence_and_accuracy():
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    labels = np.array([0, 1, 0, 0])  # bin 0.9: accuracy 0.5; bin 0.6: accuracy 1.0
    assert calibration.ece(proba, labels) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)


def test_the_reliability_diagram_is_a_png(tmp_path):
    logits, labels = overconfident(500)
    target = tmp_path / "plots" / "reliability.png"
    reliability_diagram(softmax(logits), softmax(logits, 3.0), labels, 3.0, target)
    assert Image.open(target).format == "PNG"


@pytest.mark.e2e
def test_tag_push_artifacts_get_and_predict_with_the_fetched_model(baseline, tmp_path):
    project = Project.copy(baseline, tmp_path / "project")
    assert (project.path / "models" / "main" / "seed-0" / "model.onnx").is_file()  # export@main
    assert "didn't change" in project.dvc("repro", "release").stdout
    release = project.path / "models" / "release"
    card = (release / "MODEL_CARD.md").read_text()
    for heading in ("Table 2", "Per-class recall", "Calibration", "Known limits", "Must not"):
        assert heading in card
    assert "**Trained on drawn faces**" in card.split("## Files")[0]  # in its first lines
    facts = project.read_json("models/release/model_card.json")
    assert facts["data"]["real_faces"] is False and facts["variant"] == "tuned"
    run = project.read_json("metrics/runs/tuned/seed-0/test.json")
    assert facts["test"]["accuracy"] == run["accuracy"]  # the card describes the released run

    origin, storage = tmp_path / "origin.git", tmp_path / "dvc-storage"
    project.run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    project.run("git", "remote", "add", "origin", str(origin))
    project.dvc("remote", "add", "-d", "storage", str(storage))
    project.commit("release expression-classifier")
    project.run(
        "git", "tag", "-a", "expression-classifier@v1.0.0", "-m", "expression-classifier v1.0.0"
    )
    assert project.run("git", "cat-file", "-t", "expression-classifier@v1.0.0").stdout == "tag\n"
    project.dvc("push")
    project.run("git", "push", "-q", "origin", "main", "--tags")

    consumer = tmp_path / "consumer"
    consumer.mkdir()
    got = subprocess.run(
        ["dvc", "artifacts", "get", str(origin), "expression-classifier", "--rev", "v1.0.0",
         "-o", "model"],
        cwd=consumer, capture_output=True, text=True, env=environment(),
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    fetched = consumer / "model"
    assert {p.name for p in fetched.iterdir()} == {
        "model.pt",
        "model.onnx",
        "MODEL_CARD.md",
        "model_card.json",
        "reliability.png",
    }

    image, _ = group_photo()
    Image.fromarray(image).save(consumer / "group.jpg")
    for model in (fetched, fetched / "model.onnx"):
        done = subprocess.run(
            [sys.executable, "-m", "expressions", "predict", "group.jpg", "--model", str(model),
             "--detector", "haar", "--csv", "rows.csv", "--quiet"],
            cwd=consumer, capture_output=True, text=True, env=environment(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        rows = list(csv.DictReader((consumer / "rows.csv").open()))
        assert len(rows) == 3 and all(r["predicted"] for r in rows)
        assert f"warning: {model}" in done.stderr and "drawn faces" in done.stderr
