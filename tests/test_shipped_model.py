"""The FER2013 models that ship with the package: the default `fer2013` (one view, distilled,
int8) and `fer2013-accurate` (ten views). Each loads from the installed package, says what it is
and how fast it ran where it was built, and a fresh clone calls a smiling face happy with no
training and no `dvc repro`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from expressions.release.card import CARD, FACTS, ModelCard
from expressions.release.card_markdown import render
from expressions.serving.choose import ACCURATE, SHIPPED, choose_model, shipped_model, shipped_names
from expressions.serving.classifier import OnnxClassifier
from expressions.training.model_file import load_model

FER2013 = ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]


def test_two_models_ship_within_40_mb_together():
    assert shipped_names() == [SHIPPED, ACCURATE]
    sizes = {}
    for name in shipped_names():
        folder = shipped_model(name)
        assert folder.is_relative_to(Path(sys.modules["expressions"].__file__).parent)
        files = {p.name: p.stat().st_size for p in folder.iterdir()}
        assert {"model.pt", "model.onnx", CARD, FACTS} <= set(files), name
        sizes[name] = sum(files.values())
    assert sum(sizes.values()) <= 40e6, sizes


@pytest.mark.parametrize("name", [SHIPPED, ACCURATE])
def test_each_loads_and_names_the_seven_classes(name):
    folder = shipped_model(name)
    loaded = load_model(folder / "model.pt")
    assert list(loaded.variant.classes) == FER2013 and loaded.real_faces is True
    onnx = OnnxClassifier.load(folder / "model.onnx")
    assert list(onnx.classes) == FER2013 and onnx.real_faces is True
    assert 0.5 < loaded.temperature < 5  # calibrated on the validation split


def test_the_default_is_one_view_and_runs_int8_only_where_int8_kept_its_accuracy():
    """The int8 file ships only where it stayed within its tolerance on validation (the card
    says which), and `expressions predict` runs whichever file the card says it runs."""
    facts = json.loads((shipped_model(SHIPPED) / FACTS).read_text())
    int8 = facts["distilled"]["int8"]
    shipped = shipped_model(SHIPPED) / "model.int8.onnx"
    assert shipped.exists() == int8["kept"]
    assert int8["kept"] == (
        int8["val"]["float32_accuracy"] - int8["val"]["int8_accuracy"] <= int8["tolerance"]
    )
    assert choose_model(SHIPPED).path.name == facts["distilled"]["runtime"].split()[0]
    fast = OnnxClassifier.load(choose_model(SHIPPED).path)
    accurate = OnnxClassifier.load(shipped_model(ACCURATE) / "model.onnx")
    assert (len(fast.views), len(accurate.views)) == (1, 10)


@pytest.mark.parametrize("name", [SHIPPED, ACCURATE])
def test_each_card_names_the_data_its_licence_how_it_was_built_and_its_speed(name):
    facts = json.loads((shipped_model(name) / FACTS).read_text())
    assert facts["data"]["real_faces"] is True and "FER2013" in facts["data"]["description"]
    assert "research use" in facts["licence"]
    card = (shipped_model(name) / CARD).read_text()
    assert "**Trained on real faces**" in card.split("## Files")[0]
    for heading in ("Table 2", "Per-class recall", "Calibration", "Licence", "Must not", "built"):
        assert heading in card, heading
    assert facts["test"]["images"] > 3000  # PrivateTest, less its copies of training faces
    assert facts["speed"]["faces_per_s"] > 0 and "## Speed" in card
    assert f"{facts['speed']['faces_per_s']:,} faces/s" in card


@pytest.mark.parametrize("name", [SHIPPED, ACCURATE])
def test_each_shipped_card_is_the_render_of_its_facts(name):
    folder = shipped_model(name)
    text = (folder / FACTS).read_text()
    card = ModelCard.from_json(text)
    assert card.to_json() == text  # typed: no fact the structure does not know
    assert render(card) == (folder / CARD).read_text()  # MODEL_CARD.md was not edited by hand
    assert card.speed is not None and card.licence and card.built and card.data.description


def test_the_default_card_says_what_it_was_distilled_from():
    facts = json.loads((shipped_model(SHIPPED) / FACTS).read_text())
    accurate = json.loads((shipped_model(ACCURATE) / FACTS).read_text())
    assert facts["distilled"]["teacher"] == accurate["name"] and facts["tta_crops"] is False
    assert "## Distilled" in (shipped_model(SHIPPED) / CARD).read_text()


def test_it_is_the_default_where_no_release_learnt_from_real_faces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no models/release here
    chosen = choose_model(None)
    assert chosen.path.parent == shipped_model() and "FER2013" in chosen.why
    assert str(tmp_path) in chosen.why  # which folder was looked in


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


def test_the_pages_header_and_health_give_the_default_models_speed():
    from expressions.release.card import model_info

    info = model_info(choose_model(SHIPPED).path, FER2013)
    facts = json.loads((shipped_model(SHIPPED) / FACTS).read_text())
    assert info.speed.startswith(f"{facts['speed']['faces_per_s']:,} faces/s on pre-cropped faces")
