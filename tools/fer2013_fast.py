"""The package's fast FER2013 model: a one-view student of the ten-view model, distilled by the
project's own pipeline, calibrated, with its card; int8 ONNX beside it where int8 keeps its
validation accuracy within the student's int8_tolerance.

    python tools/fer2013_fast.py PATH [--teacher FILE] [--copies N] [--epochs N] [--lr LR]
                                      [--input-size PX | --model YAML] [--keep DIR] [--out DIR]

PATH is FER2013 in the folder layout (a zip or a folder, as for tools/fer2013_model.py). In
a scratch copy of the repository the pipeline runs FER2013's seven classes up to `dvc repro
distill@fast` (params.yaml `distill.fast`: the teacher's labels for the training faces, then the
student: README, Distillation). The student is then calibrated on val (a temperature, as the
release stage fits one), exported, quantized to int8 (static, calibrated on val faces) and
scored on the test split as `expressions predict` runs it. --model gives the student a network
of its own (a params.yaml `model` section, e.g. '{kernel: 3, depth: 4, channels: [32, 64, 128,
256], hidden: 128, dropout: 0.3}'), trained from fresh weights. --keep DIR keeps the scratch
project; a second run with the same arguments resumes it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402
from fer2013_model import LICENCE, description, machine  # noqa: E402
from PIL import Image  # noqa: E402
from real import CLASSES, kept_project, real_params, run  # noqa: E402

from expressions.analysis.metrics import classification_metrics  # noqa: E402
from expressions.config import read_yaml, yaml_value  # noqa: E402
from expressions.core import paths  # noqa: E402
from expressions.core.atomic import atomic_path  # noqa: E402
from expressions.data.dataset import load_merged  # noqa: E402
from expressions.release.bundle import calibrate  # noqa: E402
from expressions.release.card import (  # noqa: E402
    FACTS,
    ModelCard,
    Speed,
    card_facts,
    read_facts,
    with_build_facts,
)
from expressions.release.card_markdown import write_card  # noqa: E402
from expressions.release.compact import compact_model_file, compact_onnx  # noqa: E402
from expressions.release.export import INPUT_SCALING, export_onnx  # noqa: E402
from expressions.release.onnx_model import OnnxClassifier  # noqa: E402
from expressions.release.quantize import int8_model  # noqa: E402
from expressions.release.reliability import reliability_diagram  # noqa: E402
from expressions.serving.classifier import load_file  # noqa: E402
from expressions.serving.speed import faces_per_s as faces_per_s_of  # noqa: E402
from expressions.training.model_file import load_model, save_model  # noqa: E402

STUDENT = "fast"
MODELS = ROOT / "src" / "expressions" / "models"
TEACHER = "src/expressions/models/fer2013-accurate/model.pt"
SLOW_FACES = 400  # a ten-view model's rate is measured on this many faces


def student_params(
    data: Path, teacher: str, copies: int, epochs: int, lr: float, size: int, model: dict
) -> dict:
    params = real_params(data, CLASSES[7], ["main"], None, None, {"runtime.threads": 1})
    student = {"teacher": teacher, "copies": copies, "seed": 0, "epochs": epochs, "lr": lr}
    params["distill"] = {
        STUDENT: {**student, "model": model} if model else {**student, "input_size": size}
    }
    return params


def faces_per_s(model: Path, faces: np.ndarray, folder: Path) -> Speed:
    """How fast `expressions predict FOLDER --detector none` runs `model` on these faces written
    as PNG files (decoding included), after the model is loaded, as its summary line says."""
    folder.mkdir(exist_ok=True)
    files = []
    for i, face in enumerate(faces):
        files.append(folder / f"{i:05d}.png")
        Image.fromarray(face).save(files[-1])
    return Speed(
        faces_per_s=round(faces_per_s_of(load_file(model), files)),
        faces=len(files),
        load_average=[round(x, 2) for x in os.getloadavg()],
        machine=machine(),
        command="expressions predict <a folder of the test faces as PNG> --detector none",
        measured=date.today().isoformat(),
    )


def record_speed(folder: Path, speed: Speed) -> None:
    """A shipped model's card with its measured speed added (facts and Markdown together)."""
    write_card(folder, replace(read_facts(folder), speed=speed))


def package(
    project: Path, out: Path, teacher: ModelCard, command: str, minutes: float
) -> ModelCard:
    """models/students/fast of the scratch project as the package's model folder."""
    folder = project / paths.student(STUDENT)
    loaded = load_model(folder / "model.pt")
    merged = load_merged(project / paths.DATASET)
    x_val, y_val = merged.part("val")
    x_test, y_test = merged.part("test")
    calib, before, after = calibrate(loaded.model, loaded.variant, x_val, y_val, 15)
    distilled = json.loads((project / paths.student_metrics(STUDENT)).read_text())
    spec = read_yaml(project / "params.yaml")["distill"][STUDENT]
    with tempfile.TemporaryDirectory() as scratch, atomic_path(out) as tmp:
        built = Path(scratch) / "built"
        built.mkdir()
        calibrated = replace(loaded, temperature=calib.temperature)
        save_model(built / "model.pt", loaded.model, loaded.run, calib.temperature, loaded.origins)
        export_onnx(calibrated, built / "model.onnx")
        tolerance = spec.get("int8_tolerance", 0.005)
        val = int8_model(built / "model.onnx", built / "model.int8.onnx", (x_val, y_val), tolerance)
        runs = built / ("model.int8.onnx" if val.loss <= tolerance else "model.onnx")
        used = OnnxClassifier.load(runs)  # what `expressions predict` runs by default
        predicted = used.proba(x_test).argmax(1)
        metrics = classification_metrics(y_test, predicted, loaded.variant.classes)
        speed = faces_per_s(runs, x_test, Path(scratch) / "faces")
        card = card_facts(
            loaded.variant,
            metrics,
            asdict(calib),
            loaded.origins or {},
            teacher.data.label_map,
            teacher.data.totals,
            INPUT_SCALING,
        )
        distilled = {
            "teacher": teacher.name,
            "teacher_test_accuracy": distilled["teacher"]["accuracy"],
            "copies": spec["copies"],
            "temperature": spec.get("temperature", 2.0),
            "student_float32_test_accuracy": distilled["student"]["accuracy"],
            "int8": {
                "kept": runs.name != "model.onnx",
                "tolerance": tolerance,
                "val": val.as_dict(),
            },
            "runtime": f"{runs.name} (onnxruntime)",
        }
        timing = project / paths.timing("distill", STUDENT, 0)
        took = json.loads(timing.read_text()).get("seconds") if timing.exists() else None
        took = f" took {took / 60:.0f} minutes on one thread" if took else ""
        card = with_build_facts(
            card,
            name="expressions-fer2013",
            description=description(card),
            licence=LICENCE,
            built=f"`{command}` (tools/fer2013_fast.py): the project's own pipeline (teach@fast, "
            f"distill@fast; the student's {spec['epochs']} epochs{took}), this run "
            f"{minutes:.0f} minutes, on a {machine()}, {date.today().isoformat()}.",
            speed=speed,
            distilled=distilled,
        )
        tmp.mkdir(parents=True)
        compact_model_file(built / "model.pt", tmp / "model.pt")
        compact_onnx(built / "model.onnx", tmp / "model.onnx")  # float32 maths: --runtime onnx
        if runs.name != "model.onnx":
            shutil.copy2(runs, tmp / runs.name)
        reliability_diagram(before, after, y_val, calib.temperature, tmp / "reliability.png")
        write_card(tmp, card)
    return card


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="FER2013 as a zip or folder (fer2013/<split>/...)")
    parser.add_argument("--teacher", default=TEACHER, help=f"its model.pt (default {TEACHER})")
    parser.add_argument("--copies", type=int, default=1, help="labelled copies of each face")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-4, help="the student's learning rate")
    parser.add_argument("--input-size", type=int, default=80, help="the student's input side")
    parser.add_argument(
        "--model", type=yaml_value, default={}, help="the student's own network, as YAML"
    )
    parser.add_argument("--keep", type=Path, help="the scratch project's folder (resumable)")
    parser.add_argument("--out", type=Path, default=MODELS / "fer2013")
    parser.add_argument(
        "--accurate",
        type=Path,
        help="the shipped ten-view model's folder: the teacher's card, and its speed measured "
        "in the same run is added to it (default: the teacher's folder, not measured)",
    )
    args = parser.parse_args(argv)
    if not args.path.exists():
        raise SystemExit(f"error: {args.path} not found (FER2013 as a zip or a folder)")
    params = student_params(
        args.path.resolve(),
        args.teacher,
        args.copies,
        args.epochs,
        args.lr,
        args.input_size,
        args.model,
    )
    scratch = args.keep or ROOT / "bench-results" / "fer2013-fast"
    kept_project(scratch, params)
    start = time.perf_counter()
    run(scratch, ["dvc", "repro", f"distill@{STUDENT}"])
    minutes = (time.perf_counter() - start) / 60
    accurate = (scratch / args.teacher).parent if args.accurate is None else args.accurate
    teacher = read_facts(accurate)
    if teacher is None:
        raise SystemExit(f"error: {accurate} has no {FACTS} (a shipped model's folder has)")
    command = shlex.join(["python", "tools/fer2013_fast.py", *argv])  # the card says how
    card = package(scratch, args.out, teacher, command, minutes)
    print(
        f"{args.out}: test accuracy {card.test['accuracy']:.4f} "
        f"(one view, {card.distilled['runtime']})"
    )
    if args.accurate is not None:  # the ten-view model's speed, measured in the same run
        x_test = load_merged(scratch / paths.DATASET).part("test")[0][:SLOW_FACES]
        with tempfile.TemporaryDirectory() as folder:
            speed = faces_per_s(accurate / "model.onnx", x_test, Path(folder))
        record_speed(accurate, speed)
        ratio = card.speed.faces_per_s / speed.faces_per_s
        print(f"{accurate}: {speed.faces_per_s} faces/s; the fast model runs {ratio:.1f}x that")


if __name__ == "__main__":
    main(sys.argv[1:])
