"""Damaged training files (issue 12, item 8): a corrupt resume checkpoint is a one-line warning
and a fresh start; a truncated model file at evaluate is one sentence naming the file and the
command that rebuilds it. Every load stays `weights_only=True`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from expressions.config import Run, load_params
from expressions.core.errors import ModelFileError
from expressions.training.loop import train
from expressions.training.model import build_model
from expressions.training.model_file import load_model, save_model
from helpers.builders import quadrants, tiny, tiny_run

ROOT = Path(__file__).resolve().parents[2]


def truncated_copy(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "foreign"])
def test_a_corrupt_checkpoint_is_discarded_with_one_warning(tmp_path, capsys, damage) -> None:
    ckpt = tmp_path / "checkpoints" / "tiny" / "last.pt"
    train(tiny_run(epochs=1), quadrants(), fingerprint="f", checkpoint=ckpt)
    if damage == "truncated":
        truncated_copy(ckpt)
    elif damage == "garbage":
        ckpt.write_bytes(b"\x00\xffnot a checkpoint" * 100)
    elif damage == "empty":
        ckpt.write_bytes(b"")
    else:  # a readable file that is not ours: a list of tensors
        torch.save([torch.zeros(3)], ckpt)
    capsys.readouterr()
    again = train(tiny_run(epochs=2), quadrants(), fingerprint="f", checkpoint=ckpt)
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert re.match(rf"warning: {re.escape(str(ckpt))} is unreadable \(.*\); discarding it", out)
    assert "Epoch [1/2]" in out and "resuming" not in out and len(again.history) == 2
    assert torch.load(ckpt, weights_only=True)["fingerprint"] == "f"  # a good one replaces it


def saved_model(root: Path) -> Path:
    variant = tiny()
    path = root / "models" / "main" / "seed-0" / "model.pt"
    model = build_model(variant.model, len(variant.classes), variant.image_size)
    save_model(path, model, Run(variant))
    return path


def test_a_truncated_model_names_the_file_and_the_command(tmp_path) -> None:
    path = saved_model(tmp_path)
    truncated_copy(path, 0.6)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    message = str(err.value)
    assert message.startswith(f"{path} is not a PyTorch model file (it is truncated, or another")
    assert message.endswith("rebuild it with `dvc repro train@main-0`") and "\n" not in message


def test_test_stage_says_it_in_one_line_and_exits_1(tmp_path) -> None:
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "configs").mkdir()
    variant = load_params(tmp_path / "params.yaml").variant("main")
    (tmp_path / "configs" / "main.json").write_text(variant.to_json())
    model = tmp_path / "models" / "main" / "seed-0" / "model.pt"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"PK\x03\x04 truncated")
    done = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "test.py"), "main", "--seed", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: models/main/seed-0/model.pt is not a PyTorch model file (")
    assert lines[0].endswith("rebuild it with `dvc repro train@main-0`")


def test_every_torch_load_stays_weights_only() -> None:
    for path in (ROOT / "src").rglob("*.py"):
        for line in path.read_text().splitlines():
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{path}: {line.strip()}"
