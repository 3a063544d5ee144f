"""params.yaml shapes a user writes by mistake (issue 12, item 9): each is one ConfigError
sentence naming the key, never a traceback; and `1e-3` is a number, as DVC reads it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from expressions.config import load_params, parse_params, read_yaml
from expressions.core.errors import ConfigError
from helpers.builders import params_with

ROOT = Path(__file__).resolve().parents[2]
RAW = read_yaml(ROOT / "params.yaml")


@pytest.mark.parametrize(
    ("key", "value", "sentence"),
    [
        ("labels.map.rafdb", ["Anger", "Happiness"], "labels.map.rafdb must be a mapping of"),
        ("labels.map.rafdb", "Anger: Angry", "labels.map.rafdb must be a mapping of"),
        ("variants.main", ["model"], "variants.main must be a lower-case name mapping to"),
        ("variants.main", "kernel: 4", "variants.main must be a lower-case name mapping to"),
        ("variants.main", {"model": 4}, "variants.main.model must be a mapping of model keys"),
        ("variants.main", {"train": [1]}, "variants.main.train must be a mapping of train keys"),
        ("data.local.rafdb", 5, "data.local.rafdb must be a path or null, not 5"),
        ("data.local.rafdb", ["/a.zip"], "data.local.rafdb must be a path or null"),
        ("data.local.rafdb", {"path": "/a"}, "data.local.rafdb must be a path or null"),
        ("data.local.rafdb", True, "data.local.rafdb must be a path or null, not True"),
        ("data.kaggle.rafdb", 3, "data.kaggle.rafdb must be a Kaggle slug or null, not 3"),
        ("data.local", ["/a.zip"], "data.local must be a mapping, not"),
        ("split.group", {"rafdb": 5}, "split.group.rafdb must be a regular expression string"),
        ("data.limits", "big", "data.limits must be a mapping of keys"),
        ("data.limits.megapixels", 0, "data.limits.megapixels is 0.0; allowed range (0.0, "),
        ("data.limits.ratio", "high", "data.limits.ratio must be a number, not 'high'"),
        ("data.limits.extracted_gib", -1, "data.limits.extracted_gib is -1.0; allowed range"),
        ("data.limits.maxbytes", 5, "unknown key data.limits.maxbytes in params.yaml"),
    ],
)
def test_a_wrong_shape_is_one_sentence_naming_the_key(key, value, sentence) -> None:
    with pytest.raises(ConfigError) as err:
        parse_params(params_with(key, value))
    message = str(err.value)
    assert message.startswith(sentence) and "\n" not in message


def test_a_dataset_name_that_is_a_number_is_a_sentence() -> None:
    raw = copy.deepcopy(RAW)
    raw["data"]["datasets"][7] = "folder"
    with pytest.raises(ConfigError, match=r"^data\.datasets\.7: a dataset name must be"):
        parse_params(raw)


def test_limits_may_be_left_out_and_take_their_defaults() -> None:
    raw = copy.deepcopy(RAW)
    del raw["data"]["limits"]
    limits = parse_params(raw).data.limits
    assert (limits.extracted_gib, limits.ratio, limits.megapixels) == (20.0, 100.0, 25.0)


def test_exponent_numbers_are_numbers_as_dvc_reads_them(tmp_path: Path) -> None:
    text = (ROOT / "params.yaml").read_text().replace("  lr: 0.001", "  lr: 1e-3")
    assert "lr: 1e-3" in text
    (tmp_path / "params.yaml").write_text(text)
    assert load_params(tmp_path / "params.yaml").train.lr == 0.001
