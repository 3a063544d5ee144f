"""tools/real.py: the params it writes for FER2013 are ones the pipeline accepts, and its
table says what each variant scored. (Running it needs the real data; the suite must not.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from expressions.config import load_params, write_yaml
from expressions.data.sources import scan
from helpers.tools import tool

ROOT = Path(__file__).resolve().parents[1]
real = tool("real")


@pytest.mark.parametrize("classes", [4, 7])
def test_real_params_validate_with_fer2013_as_the_only_folder_dataset(tmp_path, classes):
    params = real.real_params(tmp_path / "fer2013.zip", real.CLASSES[classes], ["main", "tuned"], 2)
    write_yaml(tmp_path / "params.yaml", params)
    loaded = load_params(tmp_path / "params.yaml")
    variant = loaded.variant("tuned")
    assert len(variant.classes) == classes and "Happy" in variant.classes
    assert list(loaded.variants) == ["main", "tuned"]
    assert variant.train.epochs == 2 and loaded.variant("main").train.epochs == 2
    assert params["labels"]["map"] == {
        "fer2013": {c: c.capitalize() for c in real.CLASSES[classes]}
    }


def test_an_unknown_variant_is_one_sentence(tmp_path):
    with pytest.raises(SystemExit, match=r"variant 'nosuch' is not in params\.yaml"):
        real.real_params(tmp_path, real.CLASSES[4], ["nosuch"], None)


def test_the_table_has_a_row_per_variant_with_its_numbers_and_the_differences_in_words():
    row = {"test_accuracy": 0.81234, "macro_f1_sklearn": 0.8, "macro_f1_study": 0.81,
           "val_accuracy": None, "kept_epoch": 9, "epochs_run": 12, "seconds": 600.0,
           "precision": "bf16"}  # fmt: skip
    table = real.markdown({"variants": {"tuned": row}}, 4)
    assert (
        "| tuned | 1 | 0.8123 | n/a | 0.8000 | n/a | 0.8100 | n/a | 9/12 | bf16 | 10.0 |" in table
    )
    seeds = {**row, "seeds": 3, "test_accuracy_sd": 0.01, "macro_f1_sd": 0.02}
    seeds["intervals"] = {"accuracy": [0.79, 0.83], "macro_f1": [0.78, 0.82]}
    words = {"accuracy": "tuned - main: +9.4 points [+7.0, +11.8], resolved at 95 %"}
    words["macro_f1"] = "tuned - main: +9.0 points [+6.0, +12.0], resolved at 95 %"
    table = real.markdown({"variants": {"tuned": seeds}, "differences": {"tuned": words}}, 4)
    assert "| tuned | 3 | 0.8123 ± 0.0100 | [0.7900, 0.8300] | 0.8000 ± 0.0200 |" in table
    assert f"- {words['accuracy']} (accuracy); {words['macro_f1']} (macro F1)" in table


def test_add_keeps_the_earlier_variants_of_the_same_run_only(tmp_path):
    earlier = {"data": "fer2013.zip", "classes": ["Angry", "Happy"], "variants": {"main": {}}}
    path = tmp_path / "real-4.json"
    assert real.earlier_variants(path, "fer2013.zip", ["Angry", "Happy"]) == {}  # nothing yet
    path.write_text(json.dumps(earlier))
    assert real.earlier_variants(path, "fer2013.zip", ["Angry", "Happy"]) == {"main": {}}
    with pytest.raises(SystemExit, match=r"real-4\.json holds a run on fer2013\.zip with classes"):
        real.earlier_variants(path, "other.zip", ["Angry", "Happy"])


def test_a_resumed_run_keeps_the_time_of_the_run_that_trained_a_variant():
    earlier = {"main": {"seeds": 3, "seconds": 1189.2, "measured": "2026-12-06", "x": 1}}
    earlier["variant1"] = {"seeds": 1, "seconds": 400.0}
    assert real.earlier_time(earlier, "main", 3) == {"seconds": 1189.2, "measured": "2026-12-06"}
    assert real.earlier_time(earlier, "variant1", 3) == {}  # trained with fewer seeds: timed anew
    assert real.earlier_time(earlier, "tuned", 3) == {}


def test_a_kept_project_resumes_only_with_the_same_params_and_variants(tmp_path):
    zip_path = tmp_path / "fer2013.zip"
    stored = real.real_params(zip_path, ["angry", "happy"], ["main", "variant1", "tuned"], None)
    fewer = real.real_params(zip_path, ["angry", "happy"], ["main", "variant1"], None)
    assert real.resumable(stored, fewer)  # a subset of the variants it holds
    assert not real.resumable(fewer, stored)  # tuned is not in it
    quick = real.real_params(zip_path, ["angry", "happy"], ["main"], 2)
    assert not real.resumable(stored, quick)  # other epochs


def test_a_variant_added_on_the_command_line_joins_the_run(tmp_path):
    name, overrides = real.parse_variant("deep={model: {depth: 4}, train: {epochs: 9}}")
    params = real.real_params(tmp_path, real.CLASSES[4], ["main", name], 5, {name: overrides})
    write_yaml(tmp_path / "params.yaml", params)
    loaded = load_params(tmp_path / "params.yaml")
    assert loaded.variant("deep").model.depth == 4 and loaded.variant("deep").train.epochs == 5
    with pytest.raises(SystemExit, match="--variant takes NAME="):
        real.parse_variant("deep")


def test_set_changes_params_for_every_variant_but_a_variant_override_wins(tmp_path):
    settings = dict(map(real.parse_setting, ["train.amp=bf16", "model.hidden=256"]))
    extra = {"fp32": {"train": {"amp": "none"}}}
    params = real.real_params(tmp_path, real.CLASSES[4], ["main", "fp32"], None, extra, settings)
    write_yaml(tmp_path / "params.yaml", params)
    loaded = load_params(tmp_path / "params.yaml")
    assert loaded.variant("main").train.amp == "bf16" and loaded.variant("main").model.hidden == 256
    assert loaded.variant("fp32").train.amp == "none"
    with pytest.raises(SystemExit, match="--set takes KEY=VALUE"):
        real.parse_setting("train.amp")


def test_the_challenges_csv_becomes_the_folder_layout_the_pipeline_reads(tmp_path):
    fer2013_images = tool("fer2013_images")

    faces = [np.full(48 * 48, 10 * i, np.uint8) for i in range(3)]
    rows = [(3, faces[0], "Training"), (6, faces[1], "PublicTest"), (0, faces[2], "PrivateTest")]
    with open(tmp_path / "fer2013.csv", "w") as fh:
        fh.write("emotion,pixels,Usage\n")
        for emotion, face, usage in rows:
            fh.write(f"{emotion},{' '.join(map(str, face))},{usage}\n")
    counts = fer2013_images.convert(tmp_path / "fer2013.csv", tmp_path / "out")
    assert counts == {"train": 1, "val": 1, "test": 1}
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")
    )
    assert written == [
        "fer2013/test/angry/PrivateTest_2.png",
        "fer2013/train/happy/Training_0.png",
        "fer2013/val/neutral/PublicTest_1.png",
    ]
    assert np.array_equal(
        np.asarray(Image.open(tmp_path / "out" / written[2])), faces[1].reshape(48, 48)
    )
    found = scan("folder", tmp_path / "out")
    assert sorted((i.split, i.label) for i in found.items) == [
        ("test", "angry"), ("train", "happy"), ("val", "neutral"),
    ]  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1])
def test_the_shipped_models_recipe_is_one_the_pipeline_accepts_at_any_seed(tmp_path, seed):
    model = tool("fer2013_model")
    recipe = model.read_yaml(model.RECIPE)
    write_yaml(tmp_path / "params.yaml", model.model_params(tmp_path / "fer2013.zip", recipe, seed))
    loaded = load_params(tmp_path / "params.yaml")
    variant = loaded.variant(model.NAME)
    assert variant.model.arch == "efficientnet_lite0" and variant.train.tta_crops
    assert loaded.seeds == (seed,) and loaded.runtime.threads == 1
