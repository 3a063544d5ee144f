"""ONNX export: onnxruntime agrees with PyTorch on every shipped variant shape, carries its
metadata, and predicts without torch ever being imported."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from expressions.data.views import apply, views
from expressions.release import onnx_model
from expressions.release.compact import compact_model_file, compact_onnx
from expressions.release.export import INPUT_SCALING, export_onnx
from expressions.serving.classifier import OnnxClassifier
from expressions.serving.torch_model import TorchClassifier
from expressions.training.batches import as_input, as_view
from expressions.training.model_file import load_model, save_model
from helpers.photos import face_crops as faces
from helpers.photos import group_photo, save_tiny_model, tiny_variant

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "name",
    ["main", "variant1", "variant2", "lite0"],
    ids=["kernel3", "kernel4-even", "depth4", "efficientnet_lite0"],
)
def test_onnxruntime_matches_pytorch_on_every_variant_shape(tmp_path, name):
    pt = save_tiny_model(tmp_path / "model.pt", name)
    loaded = load_model(pt)
    variant = loaded.variant
    assert (variant.model.arch, variant.model.kernel, variant.model.depth) == {
        "main": ("study", 3, 3),
        "variant1": ("study", 4, 3),
        "variant2": ("study", 3, 4),
        "lite0": ("efficientnet_lite0", 3, 3),  # kernel and depth: the study CNN's, unused
    }[name]
    export_onnx(loaded, tmp_path / "model.onnx")
    x = faces(37, variant.image_size)
    torch_proba = TorchClassifier.load(pt).proba(x)
    onnx = OnnxClassifier.load(tmp_path / "model.onnx")
    assert np.abs(onnx.proba(x) - torch_proba).max() <= 1e-4
    assert np.abs(onnx.proba(x[:1]) - torch_proba[:1]).max() <= 1e-4  # dynamic batch axis
    meta = ort.InferenceSession(str(tmp_path / "model.onnx")).get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == list(variant.classes)
    assert int(meta["image_size"]) == variant.image_size
    assert meta["input_scaling"] == INPUT_SCALING
    assert not list(tmp_path.glob(".tmp-*"))  # written atomically


def test_temperature_and_mirror_averaging_travel_in_the_metadata(tmp_path):
    pt = save_tiny_model(tmp_path / "model.pt", "tuned")
    loaded = load_model(pt)
    variant = loaded.variant
    assert variant.train.tta_flip
    export_onnx(replace(loaded, temperature=2.5), tmp_path / "model.onnx")
    onnx = OnnxClassifier.load(tmp_path / "model.onnx")
    assert onnx.temperature == 2.5 and [v.mirror for v in onnx.views] == [False, True]
    torch_model = TorchClassifier.load(pt)
    torch_model.temperature = 2.5
    x = faces(9, variant.image_size)
    assert np.abs(onnx.proba(x) - torch_model.proba(x)).max() <= 1e-4


NO_TORCH = """
import sys
from expressions.__main__ import main
main(sys.argv[1:])
assert "torch" not in sys.modules, "torch was imported"
assert "onnxruntime" in sys.modules
print("no torch")
"""


@pytest.mark.parametrize("detector", ["haar", "none"])
def test_an_onnx_model_predicts_without_importing_torch(tmp_path, detector):
    pt = save_tiny_model(tmp_path / "model.pt")
    export_onnx(load_model(pt), tmp_path / "model.onnx")
    image, _ = group_photo()
    Image.fromarray(image).save(tmp_path / "group.jpg")
    done = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "predict", str(tmp_path / "group.jpg"), "--model",
         str(tmp_path / "model.onnx"), "--detector", detector, "--csv", str(tmp_path / "o.csv")],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("no torch")
    rows = (tmp_path / "o.csv").read_text().splitlines()
    assert len(rows) - 1 == (1 if detector == "none" else 3)


def test_a_broken_onnx_file_is_one_sentence(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not onnx")
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(image)
    done = subprocess.run(
        [sys.executable, "-m", "expressions", "predict", str(image), "--model",
         str(tmp_path / "model.onnx"), "--detector", "none"],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'model.onnx'} is not an ONNX model exported")


def test_export_stage_script_writes_model_onnx(tmp_path):
    save_tiny_model(tmp_path / "models" / "main" / "seed-0" / "model.pt")
    done = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "export.py"), "main"],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert OnnxClassifier.load(tmp_path / "models" / "main" / "seed-0" / "model.onnx").classes == (
        tiny_variant().classes
    )


def test_a_model_folder_runs_with_onnxruntime_by_default_and_torch_on_request(tmp_path):
    from expressions.serving.choose import load_classifier

    pt = save_tiny_model(tmp_path / "model.pt")
    loaded = load_model(pt)
    export_onnx(loaded, tmp_path / "model.onnx")
    assert isinstance(load_classifier(tmp_path), OnnxClassifier)
    assert isinstance(load_classifier(tmp_path, runtime="torch"), TorchClassifier)
    (tmp_path / "model.onnx").unlink()
    assert isinstance(load_classifier(tmp_path), TorchClassifier)  # only the checkpoint shipped
    export_onnx(loaded, tmp_path / "model.onnx")
    (tmp_path / "model.pt").unlink()
    assert isinstance(load_classifier(tmp_path), OnnxClassifier)  # only the ONNX file shipped


def test_ten_crop_views_agree_between_numpy_and_pytorch():
    faces = np.random.default_rng(0).integers(0, 256, (5, 24, 24), dtype=np.uint8)
    x = as_input(torch.from_numpy(faces))
    chosen = views(24, flip=True, crops=True, crop=0.9)
    assert len(chosen) == 10 and {v.window[2] for v in chosen} == {22}
    for view in chosen:
        np.testing.assert_allclose(apply(faces, view), as_view(x, view).numpy(), atol=1e-5)


def test_a_ten_crop_model_predicts_alike_in_onnxruntime_and_pytorch(tmp_path):
    pt = save_tiny_model(tmp_path / "model.pt", "tuned")
    loaded = load_model(pt)
    crops = replace(loaded.variant, train=replace(loaded.variant.train, tta_crops=True))
    save_model(pt, loaded.model, crops)
    export_onnx(load_model(pt), tmp_path / "model.onnx")
    onnx, torch_model = OnnxClassifier.load(tmp_path / "model.onnx"), TorchClassifier.load(pt)
    assert len(onnx.views) == len(torch_model.views) == 10
    x = faces(9, crops.image_size)
    assert np.abs(onnx.proba(x) - torch_model.proba(x)).max() <= 1e-4


def test_compact_files_are_about_half_the_size_and_predict_alike(tmp_path):
    pt = save_tiny_model(tmp_path / "model.pt", "lite0")
    export_onnx(load_model(pt), tmp_path / "model.onnx")
    small = tmp_path / "small"
    small.mkdir()
    compact_model_file(pt, small / "model.pt")
    compact_onnx(tmp_path / "model.onnx", small / "model.onnx")
    for name in ("model.pt", "model.onnx"):
        ratio = (small / name).stat().st_size / (tmp_path / name).stat().st_size
        assert 0.45 < ratio < 0.6, (name, ratio)
    x = faces(7, tiny_variant("lite0").image_size)
    full = TorchClassifier.load(pt).proba(x)
    assert np.abs(TorchClassifier.load(small / "model.pt").proba(x) - full).max() <= 1e-3
    assert np.abs(OnnxClassifier.load(small / "model.onnx").proba(x) - full).max() <= 1e-3


def test_many_faces_are_scored_a_batch_at_a_time_with_the_same_probabilities(tmp_path):
    pt = save_tiny_model(tmp_path / "model.pt", "main")
    loaded = load_model(pt)
    export_onnx(loaded, tmp_path / "model.onnx")
    onnx = OnnxClassifier.load(tmp_path / "model.onnx")
    x = faces(onnx_model.BATCH + 37, loaded.variant.image_size)
    calls = []
    run = onnx.session.run
    onnx.session = SimpleNamespace(
        run=lambda out, feed: calls.append(len(feed["pixels"])) or run(out, feed)
    )
    whole = onnx.proba(x)
    assert calls == [onnx_model.BATCH, 37]  # never all the faces in one call: its memory grows
    one_by_one = np.concatenate([onnx.proba(x[i : i + 1]) for i in range(0, len(x), 50)])
    assert np.abs(whole[::50] - one_by_one).max() <= 1e-5
