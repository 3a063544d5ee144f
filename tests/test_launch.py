"""runtime.processes: validated in params.yaml, and turned into a worker count by launch.py."""

import copy
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from expressions.config import Run, parse_params, read_yaml
from expressions.core.errors import ConfigError
from expressions.training.launch import under_launcher, worker_count

SHIPPED = read_yaml(Path(__file__).resolve().parents[1] / "params.yaml")


def with_processes(value: object) -> dict:
    params = copy.deepcopy(SHIPPED)
    params["runtime"]["processes"] = value
    return params


@pytest.mark.parametrize("value", [1, 2, 8, "auto"])
def test_processes_accepts_a_count_or_auto(value):
    assert parse_params(with_processes(value)).runtime.processes == value


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "two", None])
def test_bad_processes_is_one_sentence_naming_the_key(value):
    with pytest.raises(ConfigError) as err:
        parse_params(with_processes(value))
    assert str(err.value) == (
        f"runtime.processes must be a whole number of processes (1 or more) or 'auto', "
        f"not {value!r}"
    )


@pytest.mark.parametrize("where", ["train", "variants.tuned.train"])
def test_a_speed_knob_under_train_says_where_it_moved(where):
    params = copy.deepcopy(SHIPPED)
    node = params
    for key in where.split("."):
        node = node.setdefault(key, {})
    node["threads"] = 1
    with pytest.raises(ConfigError) as err:
        parse_params(params)
    assert str(err.value) == (
        f"{where}.threads is now runtime.threads: it changes how fast a run goes, not what it "
        "learns, so it re-runs nothing (e.g. -S runtime.threads=...)"
    )


def test_a_model_file_of_before_still_loads_without_its_speed_knobs_and_with_its_seed():
    variant = parse_params(copy.deepcopy(SHIPPED)).variant("tuned")
    raw = json.loads(variant.to_json())
    raw["train"] |= {"threads": 1, "workers": 0, "device": "auto", "processes": 1}
    raw["train"] |= {"seeds": [0, 1], "seed": 1}  # a run's seed sat in its recipe then
    del raw["train"]["tta_crop"]  # one `crop` served augmentation and the test-time crops then
    raw["train"]["crop"] = 0.8
    old = Run.from_json(json.dumps(raw))
    assert old.seed == 1 and old.variant.train.tta_crop == 0.8
    assert replace(old.variant.train, tta_crop=0.9, crop=0.9) == variant.train


def test_auto_is_one_per_gpu_or_one_without_cuda():
    expected = torch.cuda.device_count() if torch.cuda.is_available() else 1
    assert worker_count("auto") == expected
    assert worker_count(3) == 3


def test_a_torchrun_worker_is_not_relaunched(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert not under_launcher()
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert under_launcher()
