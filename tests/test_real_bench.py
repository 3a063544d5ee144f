"""benchmarks/real.py: the params it writes for FER2013 are ones the pipeline accepts, and its
table says what each variant scored. (Running it needs the real data; the suite must not.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from expressions.config import load_params

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import real  # noqa: E402


@pytest.mark.parametrize("classes", [4, 7])
def test_real_params_validate_with_fer2013_as_the_only_folder_dataset(tmp_path, classes):
    params = real.real_params(tmp_path / "fer2013.zip", real.CLASSES[classes], ["main", "tuned"], 2)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
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


def test_the_table_has_a_row_per_variant_with_its_numbers():
    row = {"test_accuracy": 0.81234, "macro_f1_sklearn": 0.8, "macro_f1_study": 0.81,
           "val_accuracy": None, "kept_epoch": 9, "epochs_run": 12, "seconds": 600.0}  # fmt: skip
    table = real.markdown({"variants": {"tuned": row}}, 4)
    assert "| tuned | 0.8123 | 0.8000 | 0.8100 | n/a | 9/12 | 10.0 |" in table


def test_a_variant_added_on_the_command_line_joins_the_run(tmp_path):
    name, overrides = real.parse_variant("deep={model: {depth: 4}, train: {epochs: 9}}")
    params = real.real_params(tmp_path, real.CLASSES[4], ["main", name], 5, {name: overrides})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    loaded = load_params(tmp_path / "params.yaml")
    assert loaded.variant("deep").model.depth == 4 and loaded.variant("deep").train.epochs == 5
    with pytest.raises(SystemExit, match="--variant takes NAME="):
        real.parse_variant("deep")
