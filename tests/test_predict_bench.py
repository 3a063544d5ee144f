"""benchmarks/predict_bench.py (in `make bench`) runs end to end and reports every number."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_predict_benchmark_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "predict_bench.py"),
            "--quick",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    for key in ("project_faces_per_s", "reference_faces_per_s", "ratio"):
        assert report["faces"][key] > 0
    assert (
        report["onnx"]["onnxruntime_faces_per_s"] > 0 and report["onnx"]["pytorch_faces_per_s"] > 0
    )
    assert report["photos"]["project_photos_per_s"] > 0
    assert set(report["detectors"]) == {"mtcnn", "haar", "lbp", "facenet"}
    video = report["video"]
    assert video["followed_frames_per_s"] > 0 and video["every_frame_searched_frames_per_s"] > 0
    assert "faces/s" in run.stdout
