"""`torchrun --nproc_per_node 2 stages/train.py` on CPU (Gloo): one set of outputs, and the
same model as one process trained on the same data, up to float rounding."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch

from expressions.analysis.evaluation import predict_split
from expressions.config import Run
from expressions.config.runtime import RuntimeSpec
from expressions.data.dataset import load_merged, save_merged
from expressions.training.distributed import launch
from expressions.training.loop import train
from expressions.training.model_file import load_model
from helpers.builders import quadrants, tiny

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def stage(cwd: Path, *command: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_two_gloo_processes_train_like_one_and_evaluate_alike(tmp_path):
    # Dropout off: its masks are drawn per rank, so only they would differ from one process.
    # Augmentation and class weights on: both must be cut from the same global batch.
    variant = tiny(dropout=0.0, epochs=2, augment=True, balance="weighted_loss")
    shutil.copy(ROOT / "params.yaml", tmp_path)  # train and test read its runtime section
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.json").write_text(variant.to_json())
    # 113 training images: the last global batch holds one, so rank 1's share of it is empty.
    dataset = tmp_path / "data" / "merged" / "dataset.npz"
    save_merged(dataset, quadrants(n=189))
    sources = pd.DataFrame({"dataset": ["a", "b", "c"] * 63})  # the manifest's source column
    sources.to_csv(dataset.with_name("manifest.csv"), index=False)
    script = str(ROOT / "stages" / "train.py")
    done = stage(
        tmp_path, str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", script, "tiny"
    )

    assert done.stdout.count("Epoch [") == 2  # rank 0 alone prints
    run = tmp_path / "models" / "tiny" / "seed-0"
    assert sorted(p.name for p in run.iterdir()) == ["model.pt"]
    live = tmp_path / "dvclive" / "tiny" / "seed-0"
    rows = (live / "plots" / "metrics" / "val_loss.tsv").read_text()
    assert len(rows.splitlines()) == 1 + 2
    assert not (tmp_path / "checkpoints" / "tiny" / "seed-0" / "last.pt").exists()
    assert not list(tmp_path.rglob(".tmp-*"))

    single = train(Run(variant), load_merged(dataset))
    ddp = load_model(run / "model.pt").model
    expected = single.model.state_dict()
    for name, value in ddp.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=1e-4, atol=1e-5, msg=name)
    logged = json.loads((live / "metrics.json").read_text())
    assert logged["val_acc"] == single.history[-1]["val_acc"]
    assert abs(logged["val_loss"] - single.history[-1]["val_loss"]) < 1e-5

    stage(tmp_path, sys.executable, str(ROOT / "stages" / "test.py"), "tiny")
    table = pd.read_csv(tmp_path / "metrics" / "runs" / "tiny" / "seed-0" / "predictions.csv")
    alone = predict_split(single.model, load_merged(dataset), variant, torch.device("cpu"))
    assert table["index"].tolist() == alone.index.tolist()
    assert (table["predicted"] == [variant.classes[i] for i in alone.predicted]).all()
    metrics = json.loads(
        (tmp_path / "metrics" / "runs" / "tiny" / "seed-0" / "test.json").read_text()
    )
    assert (
        metrics["test_images"]
        == len(table)
        == sum(s["images"] for s in metrics["by_source"].values())
    )
    assert table["dataset"].tolist() == sources["dataset"][table["index"]].tolist()


def test_torchrun_with_one_process_is_a_plain_run(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    with launch(RuntimeSpec(device="cpu")) as runtime:
        assert (runtime.rank, runtime.world) == (0, 1)
        assert not torch.distributed.is_initialized()
