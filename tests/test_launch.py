"""train.processes: validated in params.yaml, and turned into a worker count by launch.py."""

import copy
from pathlib import Path

import pytest
import torch

from expressions.config import parse_params, read_yaml
from expressions.core.errors import ConfigError
from expressions.training.launch import under_launcher, worker_count

SHIPPED = read_yaml(Path(__file__).resolve().parents[1] / "params.yaml")


def with_processes(value: object) -> dict:
    params = copy.deepcopy(SHIPPED)
    params["train"]["processes"] = value
    return params


@pytest.mark.parametrize("value", [1, 2, 8, "auto"])
def test_processes_accepts_a_count_or_auto(value):
    assert parse_params(with_processes(value)).variant("main").train.processes == value


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "two", None])
def test_bad_processes_is_one_sentence_naming_the_key(value):
    with pytest.raises(ConfigError) as err:
        parse_params(with_processes(value))
    assert str(err.value) == (
        f"train.processes must be a whole number of processes (1 or more) or 'auto', not {value!r}"
    )


def test_auto_is_one_per_gpu_or_one_without_cuda():
    expected = torch.cuda.device_count() if torch.cuda.is_available() else 1
    assert worker_count("auto") == expected
    assert worker_count(3) == 3


def test_a_torchrun_worker_is_not_relaunched(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert not under_launcher()
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert under_launcher()
