"""An exported model in int8: onnxruntime's static quantization, calibrated on validation faces,
kept only where it costs at most a set share of validation accuracy.

Static (QDQ, weights per channel) rather than dynamic: on a 2-core CPU dynamic quantization of
EfficientNet-Lite0's convolutions ran 3-5x slower than float32, static about 2x faster
(docs/PERFORMANCE.md). The int8 file keeps the float32 file's metadata (classes, size, views,
temperature), so `expressions predict` uses it as it uses any exported model.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from expressions.core.atomic import atomic_path
from expressions.data.views import apply
from expressions.release.onnx_model import OnnxClassifier

CALIBRATION_FACES = 512  # validation faces the activation ranges are measured on
CALIBRATION_BATCH = 64


@dataclass(frozen=True)
class Int8Check:
    """float32 against int8 on the same faces: each one's accuracy and how often they agree."""

    faces: int
    float32_accuracy: float
    int8_accuracy: float
    agreement: float  # share of faces where both predict the same class

    @property
    def loss(self) -> float:
        return self.float32_accuracy - self.int8_accuracy

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _calibration(faces: np.ndarray, views: list) -> object:
    """onnxruntime's reader: CALIBRATION_FACES images in all, shared out over the views the model
    averages (each view its own faces), so a ten-view model calibrates on as many images as a
    one-view one: onnxruntime keeps every activation of every image in memory while it does."""
    from onnxruntime.quantization import CalibrationDataReader

    each = max(1, CALIBRATION_FACES // len(views))
    shares = [(v, faces[k * each : (k + 1) * each]) for k, v in enumerate(views)]
    shares = [(v, part if len(part) else faces[:each]) for v, part in shares]  # few faces: reuse
    batches = [
        {"pixels": apply(part[i : i + CALIBRATION_BATCH], v)}
        for v, part in shares
        for i in range(0, len(part), CALIBRATION_BATCH)
    ]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(batches)

        def get_next(self) -> dict | None:
            return next(self.left, None)

    return Reader()


def quantize_int8(source: Path, target: Path, faces: np.ndarray) -> None:
    """`source` (float32 ONNX) -> `target` (int8 weights and activations), calibrated on `faces`
    (uint8 [N, S, S]; the first CALIBRATION_FACES, shared out over the model's views); metadata
    copied; written atomically."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    views = OnnxClassifier.load(source).views
    with tempfile.TemporaryDirectory() as scratch, atomic_path(target) as tmp:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        quantize_static(
            str(prepared),
            str(tmp),
            _calibration(faces[:CALIBRATION_FACES], views),  # split over the views
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        original, quantized = onnx.load(str(source)), onnx.load(str(tmp))
        del quantized.metadata_props[:]
        quantized.metadata_props.extend(original.metadata_props)
        quantized.producer_name = original.producer_name
        onnx.save(quantized, str(tmp))


def compare(float32: Path, int8: Path, x: np.ndarray, y: np.ndarray) -> Int8Check:
    """Both files on the same faces, as `expressions predict` runs them."""
    a = OnnxClassifier.load(float32).proba(x).argmax(1)
    b = OnnxClassifier.load(int8).proba(x).argmax(1)
    return Int8Check(
        len(y),
        float((a == y).mean()) if len(y) else 0.0,
        float((b == y).mean()) if len(y) else 0.0,
        float((a == b).mean()) if len(y) else 0.0,
    )


def int8_model(
    float32: Path, target: Path, val: tuple[np.ndarray, np.ndarray], tolerance: float
) -> Int8Check:
    """Quantize `float32` to `target`, calibrated on the validation faces; the file is kept only
    if its validation accuracy is at most `tolerance` under float32's (else removed)."""
    x, y = val
    quantize_int8(float32, target, x)
    check = compare(float32, target, x, y)
    if check.loss > tolerance:
        target.unlink()
    return check
