"""release/ensemble.py: exported models as one ONNX file whose probabilities are the mean of the
members' calibrated ones, run by the same classifier as any model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx
import pytest

from expressions.release.ensemble import ensemble_onnx
from expressions.release.export import export_onnx
from expressions.serving.classifier import OnnxClassifier
from expressions.training.model_file import load_model
from helpers.photos import face_crops, save_tiny_model

ONE_VIEW = {"tta_flip": "false", "tta_crops": "false", "crop": "0.9"}


def member(tmp_path, name: str, seed: int, temperature: float):
    loaded = load_model(save_tiny_model(tmp_path / f"{name}-{seed}" / "model.pt", name, seed))
    path = tmp_path / f"{name}-{seed}" / "model.onnx"
    export_onnx(replace(loaded, temperature=temperature), path)
    return path, loaded.variant.image_size


def test_the_ensemble_is_the_mean_of_its_members_calibrated_probabilities(tmp_path):
    a, size = member(tmp_path, "main", 0, 1.7)
    b, _ = member(tmp_path, "variant2", 1, 0.6)  # another network and temperature, same input
    ensemble_onnx([a, b], tmp_path / "ensemble.onnx", ONE_VIEW)
    x = face_crops(12, size)
    members = [OnnxClassifier.load(p) for p in (a, b)]
    for m in members:
        m.views = m.views[:1]  # as the ensemble's metadata asks: one view
    expected = np.mean([m.proba(x) for m in members], axis=0)
    ensemble = OnnxClassifier.load(tmp_path / "ensemble.onnx")
    assert len(ensemble.views) == 1 and ensemble.temperature == 1.0
    assert ensemble.classes == members[0].classes
    np.testing.assert_allclose(ensemble.proba(x), expected, atol=1e-5)
    assert not np.allclose(members[0].proba(x), members[1].proba(x), atol=1e-3)  # it matters
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "ensemble.onnx")).metadata_props}
    assert meta["variant"] == "main+variant2"


def test_members_that_read_different_inputs_are_refused(tmp_path):
    a, _ = member(tmp_path, "main", 0, 1.0)
    proto = onnx.load(str(a))
    for entry in proto.metadata_props:
        if entry.key == "image_size":
            entry.value = "99"
    onnx.save(proto, str(tmp_path / "other.onnx"))
    with pytest.raises(ValueError, match="image_size differ"):
        ensemble_onnx([a, tmp_path / "other.onnx"], tmp_path / "e.onnx", ONE_VIEW)
