"""The FER2013 model that ships with the package: it loads from the installed package, says what
it is, and classifies a smiling face as happy with no training and no `dvc repro`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from expressions.release.card import CARD, FACTS
from expressions.serving.choose import choose_model, shipped_model
from expressions.serving.classifier import OnnxClassifier
from expressions.training.model_file import load_model

FER2013 = ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]


def test_it_is_package_data_of_at_most_15_mb():
    folder = shipped_model()
    assert folder.is_relative_to(Path(sys.modules["expressions"].__file__).parent)
    files = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert {"model.pt", "model.onnx", CARD, FACTS} <= set(files)
    assert sum(files.values()) <= 15.5e6, files


def test_both_files_load_and_name_the_seven_classes():
    folder = shipped_model()
    loaded = load_model(folder / "model.pt")
    assert list(loaded.variant.classes) == FER2013 and loaded.real_faces is True
    onnx = OnnxClassifier.load(folder / "model.onnx")
    assert list(onnx.classes) == FER2013 and onnx.real_faces is True
    assert 0.5 < loaded.temperature < 5  # calibrated on the validation split


def test_its_card_names_the_data_its_licence_and_how_it_was_built():
    facts = json.loads((shipped_model() / FACTS).read_text())
    assert facts["data"]["real_faces"] is True and "FER2013" in facts["data"]["description"]
    assert "research use" in facts["licence"] and "make fer2013-model" in facts["built"]
    card = (shipped_model() / CARD).read_text()
    assert "**Trained on real faces**" in card.split("## Files")[0]
    for heading in ("Table 2", "Per-class recall", "Calibration", "Licence", "Must not", "built"):
        assert heading in card, heading
    assert facts["test"]["images"] > 3000  # PrivateTest, less its copies of training faces


def test_it_is_the_default_where_no_release_learnt_from_real_faces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no models/release here
    chosen = choose_model(None)
    assert chosen.path.parent == shipped_model() and "FER2013" in chosen.why


def test_a_fresh_clone_calls_the_smiling_astronaut_happy(tmp_path):
    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.png")
    done = subprocess.run(
        [sys.executable, "-m", "expressions", "predict", "astronaut.png", "--csv", "rows.csv",
         "--quiet"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "FER2013 model shipped with the package" in done.stderr.splitlines()[0]
    (row,) = list(csv.DictReader((tmp_path / "rows.csv").open()))
    assert row["predicted"] == "Happy", row
    assert float(row["p_Happy"]) == max(float(row[f"p_{c}"]) for c in FER2013)
    assert np.isclose(sum(float(row[f"p_{c}"]) for c in FER2013), 1, atol=1e-4)
