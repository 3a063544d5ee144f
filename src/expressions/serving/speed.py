"""How fast `expressions predict --detector none` classifies face files: the one measurement
behind the cards' Speed sections, tools/fer2013_curve.py and benchmarks/predict_bench.py."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from expressions.serving.detect import whole_image
from expressions.serving.predict import predict


def faces_per_s(classifier: object, files: Sequence[Path], repeats: int = 1) -> float:
    """Faces per second over `files` (one face each), decoding included, the model already
    loaded, as predict's summary line counts them; the median of `repeats` passes."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        rows = sum(len(r) for _, r in predict(list(files), classifier, whole_image, progress=False))
        rates.append(rows / (time.perf_counter() - start))
    return statistics.median(rates)
