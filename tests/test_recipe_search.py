"""tools/recipe_search.py: recipes from a file, trained in parallel processes on any
project's params and merged data, scored on validation and written as they finish."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from expressions.config import write_yaml
from expressions.data.dataset import save_merged
from helpers.builders import quadrants
from helpers.e2e import tiny_params

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "recipe_search.py"


def search(tmp_path: Path, recipes: dict, *args: str) -> subprocess.CompletedProcess:
    params = tiny_params(**{"data.image_size": 16, "train.epochs": 1, "model.depth": 2})
    write_yaml(tmp_path / "params.yaml", params)
    save_merged(tmp_path / "dataset.npz", quadrants(n=96))
    write_yaml(tmp_path / "recipes.yaml", recipes)
    command = [sys.executable, str(SCRIPT), "--recipes", "recipes.yaml", "--params", "params.yaml"]
    command += ["--data", "dataset.npz", "--out", "out.json", *args]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_recipes_from_a_file_train_in_parallel_and_score_on_validation(tmp_path):
    recipes = {
        "narrow": {"model": {"hidden": 8}},
        "longer": {"train": {"epochs": 2, "seed": 1}},
    }
    done = search(tmp_path, recipes, "--processes", "2")
    assert done.returncode == 0, done.stderr
    rows = {r["recipe"]: r for r in json.loads((tmp_path / "out.json").read_text())}
    assert set(rows) == {"narrow", "longer"}
    assert rows["narrow"]["overrides"] == {"model": {"hidden": 8}}
    assert rows["longer"]["epochs_kept_run"] == [2, 2]
    assert rows["narrow"]["epochs_kept_run"] == [1, 1]
    for row in rows.values():
        assert 0 <= row["val_accuracy"] <= 1
        assert set(row["val_recall"]) == {"Angry", "Engaged", "Happy", "Neutral"}
    assert "narrow" in done.stdout and "longer" in done.stdout


def test_a_bad_recipe_is_refused_with_the_setting_named(tmp_path):
    done = search(tmp_path, {"broken": {"model": {"depth": 0}}})
    assert done.returncode != 0
    assert "variants.broken.model" in done.stderr


def test_an_unknown_recipe_name_is_one_sentence(tmp_path):
    done = search(tmp_path, {"narrow": {"model": {"hidden": 8}}}, "nosuch")
    assert done.returncode != 0
    assert "recipe 'nosuch' is not in recipes.yaml" in done.stderr
