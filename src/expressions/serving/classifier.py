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
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from expressions.core import paths
from expressions.core.errors import PredictionError
from expressions.data.origins import real_faces
from expressions.release.calibration import softmax
from expressions.release.card import DRAWN, read_facts

RELEASE = paths.RELEASE  # what `dvc repro release` writes
SHIPPED = "fer2013"  # the model in the package: src/expressions/models/fer2013/
_VARIANT = re.compile(r"^[a-z][a-z0-9_]*$")


class Classifier(Protocol):
    classes: tuple[str, ...]
    image_size: int
    real_faces: bool | None  # False: learnt from drawn faces only; None: the file does not say

    def proba(self, faces: np.ndarray) -> np.ndarray:
        """uint8 [N, S, S] faces -> float32 [N, C] probabilities, rows summing to 1."""
        ...


@dataclass
class OnnxClassifier:
    """An exported model run by onnxruntime; classes, size and scaling come from its metadata."""

    path: Path
    classes: tuple[str, ...] = ()
    image_size: int = 0
    temperature: float = 1.0
    tta_flip: bool = False
    real_faces: bool | None = None
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
            real_faces(json.loads(meta["origins"])) if "origins" in meta else None,
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


def shipped_model() -> Path:
    """The FER2013 model that ships inside the package (README: Using the model)."""
    return Path(str(resources.files("expressions"))) / "models" / SHIPPED


@dataclass(frozen=True)
class Chosen:
    path: Path  # the model file to load
    why: str  # why it is the one in use, for the line predict and serve print


def _release_is_real() -> bool:
    facts = read_facts(RELEASE)
    return bool(facts and facts.get("data", {}).get("real_faces"))


def default_model() -> tuple[Path, str]:
    """models/release when it was trained on real faces; else the shipped FER2013 model."""
    if RELEASE.is_dir() and _release_is_real():
        return RELEASE, "models/release, this project's release, trained on real faces"
    if RELEASE.is_dir():
        why = "models/release was trained on drawn faces; --model release to use it anyway"
    else:
        why = "there is no models/release (`dvc repro release` builds one)"
    return shipped_model(), f"the FER2013 model shipped with the package: {why}"


def variants_built() -> list[str]:
    return sorted(p.parent.name for p in paths.MODELS.glob("*/model.pt"))


def choose_model(model: str | Path | None, runtime: str = "auto") -> Chosen:
    """--model: a variant name (`tuned`), `release`, `fer2013`, a model folder, a .pt or a .onnx
    file; None = default_model().

    A folder holding both files is run with onnxruntime when it is installed (`auto`): on a CPU
    it classifies faces 2-3x faster than PyTorch and agrees with it to 1e-4 (tests/test_export.py);
    `runtime="torch"` gives the very numbers `evaluate` computes, `runtime="onnx"` insists on the
    ONNX file. The file is what `serve` looks beside for the model card.
    """
    if model is None:
        path, why = default_model()
    elif str(model) == SHIPPED and not Path(SHIPPED).exists():
        path, why = shipped_model(), "--model fer2013: the FER2013 model shipped with the package"
    else:
        path, why = Path(model), f"--model {model}"
        if not path.exists() and _VARIANT.match(str(model)):
            path = paths.MODELS / str(model)
            if not path.exists():
                built = ", ".join(variants_built()) or "none yet"
                raise PredictionError(
                    f"no model {model!r} here: {path} does not exist (models built here: "
                    f"{built}); build it with `dvc repro train@{model}`, or pass fer2013 (the "
                    "model shipped with the package), a model folder or a .onnx file"
                )
    return Chosen(_model_file(path, runtime), why)


def _model_file(path: Path, runtime: str) -> Path:
    """The file to load from a folder (or the file given), as `runtime` asks."""
    if not path.exists():
        raise PredictionError(
            f"no model at {path}; pass --model a variant name, fer2013, a model folder or a "
            ".onnx file"
        )
    if not path.is_dir():
        return path
    pt, onnx = path / "model.pt", path / "model.onnx"
    if runtime == "onnx" and not onnx.exists():
        raise PredictionError(
            f"--runtime onnx: {path} holds no model.onnx; build it with `dvc repro export` or "
            "use --runtime torch"
        )
    use_torch = runtime == "torch" or (runtime == "auto" and not _installed("onnxruntime"))
    if onnx.exists() and not (use_torch and pt.exists()):
        return onnx
    if pt.exists():
        return pt
    raise PredictionError(f"{path} holds neither model.pt nor model.onnx")


def load_classifier(
    model: str | Path | None, batch_size: int = 32, runtime: str = "auto"
) -> Classifier:
    """The model `choose_model` finds, run by onnxruntime (.onnx) or PyTorch (.pt)."""
    return load_file(choose_model(model, runtime).path, batch_size)


def in_use(chosen: Chosen, classifier: Classifier) -> list[str]:
    """The lines predict and serve print on stderr: which model and why, and a warning when it
    learnt from drawn faces only."""
    lines = [f"model: {chosen.path} ({chosen.why})"]
    if classifier.real_faces is False:
        lines.append(f"warning: {chosen.path} was {DRAWN}")
    return lines


def load_file(path: Path, batch_size: int = 32) -> Classifier:
    if path.suffix == ".onnx":
        return OnnxClassifier.load(path)
    from expressions.serving.torch_model import TorchClassifier  # imports torch: only here

    return TorchClassifier.load(path, batch_size)
