"""A trained classifier behind one interface, whether it is a PyTorch checkpoint or an ONNX file.

`predict` only needs classes, image size and probabilities for uint8 faces, so it works the same
with either. This module imports neither torch nor onnxruntime at import time: a user who
installed only the runtime extra runs ONNX models without torch ever being imported.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from expressions import paths
from expressions.errors import PredictionError

RELEASE = paths.RELEASE  # what `dvc repro release` writes; the default --model
_VARIANT = re.compile(r"^[a-z][a-z0-9_]*$")


class Classifier(Protocol):
    classes: tuple[str, ...]
    image_size: int

    def proba(self, faces: np.ndarray) -> np.ndarray:
        """uint8 [N, S, S] faces -> float32 [N, C] probabilities, rows summing to 1."""
        ...


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits.astype(np.float64) / temperature
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


@dataclass
class OnnxClassifier:
    """An exported model run by onnxruntime; classes, size and scaling come from its metadata."""

    path: Path
    classes: tuple[str, ...] = ()
    image_size: int = 0
    temperature: float = 1.0
    tta_flip: bool = False
    session: Any = field(default=None, repr=False)

    @classmethod
    def load(cls, path: Path, threads: int = 0) -> OnnxClassifier:
        try:
            import onnxruntime as ort
        except ImportError:
            raise PredictionError(
                f"{path} is an ONNX model but onnxruntime is not installed; "
                "pip install 'expressions[runtime]'"
            ) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            meta = session.get_modelmeta().custom_metadata_map
            classes = tuple(json.loads(meta["classes"]))
            size = int(meta["image_size"])
        except Exception as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise PredictionError(
                f"{path} is not an ONNX model exported by this project ({first}); "
                "rebuild it with `dvc repro export`"
            ) from None
        return cls(
            path,
            classes,
            size,
            float(meta.get("temperature", 1.0)),
            meta.get("tta_flip", "false") == "true",
            session,
        )

    def logits(self, faces: np.ndarray) -> np.ndarray:
        x = faces[:, None].astype(np.float32) / np.float32(255)  # the metadata's input_scaling
        return self.session.run(None, {"pixels": x})[0]

    def proba(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        proba = softmax(self.logits(faces), self.temperature)
        if self.tta_flip:  # as evaluate does: mean of the face's and its mirror's
            proba = (proba + softmax(self.logits(faces[:, :, ::-1]), self.temperature)) / 2
        return proba


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def resolve_model(model: str | Path | None, runtime: str = "auto") -> Path:
    """--model: a variant name (`tuned`), a model folder, a .pt or a .onnx file; None = release.

    A folder holding both files is run with onnxruntime when it is installed (`auto`): on a CPU
    it classifies faces 2-3x faster than PyTorch and agrees with it to 1e-4 (tests/test_export.py);
    `runtime="torch"` gives the very numbers `evaluate` computes. The file is what `serve` looks
    beside for the model card.
    """
    how = "dvc repro release"
    if model is None:
        path = RELEASE
    else:
        path, how = Path(model), "dvc repro train@<variant>"
        if not path.exists() and _VARIANT.match(str(model)):
            path, how = paths.MODELS / str(model), f"dvc repro train@{model}"
    if path.is_dir():
        pt, onnx = path / "model.pt", path / "model.onnx"
        use_torch = runtime == "torch" or (runtime == "auto" and not _installed("onnxruntime"))
        path = pt if pt.exists() and (use_torch or not onnx.exists()) else onnx
        if path == onnx and not onnx.exists():
            path = pt
    if not path.exists():
        raise PredictionError(
            f"no model at {path}; build it with `{how}` or pass --model a variant name, "
            "a model folder or a .onnx file"
        )
    return path


def load_classifier(
    model: str | Path | None, batch_size: int = 32, runtime: str = "auto"
) -> Classifier:
    """The model `resolve_model` finds, run by onnxruntime (.onnx) or PyTorch (.pt)."""
    path = resolve_model(model, runtime)
    if path.suffix == ".onnx":
        return OnnxClassifier.load(path)
    from expressions.serving.torch_model import TorchClassifier  # imports torch: only here

    return TorchClassifier.load(path, batch_size)
