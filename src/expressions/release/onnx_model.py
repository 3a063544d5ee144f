"""An exported model.onnx run by onnxruntime alone, predicting as evaluation does: the mean over
its views (from the file's metadata) of softmax(logits / temperature).

Used by `expressions predict` (serving/classifier.py) and by quantization here, which checks an
int8 file against its float32 original. onnxruntime is imported only when a file is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from expressions.core.errors import PredictionError
from expressions.data.origins import real_faces
from expressions.data.views import WHOLE, View, apply, views
from expressions.release.calibration import softmax

# Faces per onnxruntime call: one call over the 3,487 FER2013 test faces at 96 px held over 20 GB
# of activations (tools/fer2013_curve.py ran out of memory with 24 GB).
BATCH = 256


@dataclass
class OnnxClassifier:
    """An exported model run by onnxruntime; classes, size and scaling come from its metadata."""

    path: Path
    classes: tuple[str, ...] = ()
    image_size: int = 0
    temperature: float = 1.0
    views: list[View] = field(default_factory=lambda: [WHOLE])
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
            views(
                size,
                meta.get("tta_flip", "false") == "true",
                meta.get("tta_crops", "false") == "true",
                float(meta.get("crop", 1.0)),
            ),
            real_faces(json.loads(meta["origins"])) if "origins" in meta else None,
            session,
        )

    def logits(self, faces: np.ndarray, view: View = WHOLE) -> np.ndarray:
        """uint8 faces as `view` shows them, scaled as the metadata's input_scaling says; BATCH
        at a time, as one call holds every layer's activations for all the faces it gets."""
        if len(faces) <= BATCH:
            return self.session.run(None, {"pixels": apply(faces, view)})[0]
        return np.concatenate(
            [self.logits(faces[i : i + BATCH], view) for i in range(0, len(faces), BATCH)]
        )

    def proba(self, faces: np.ndarray) -> np.ndarray:
        """As evaluate computes it: the mean over the views of softmax(logits / temperature)."""
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        tempered = [softmax(self.logits(faces, v), self.temperature) for v in self.views]
        return np.mean(tempered, axis=0).astype(np.float32)
