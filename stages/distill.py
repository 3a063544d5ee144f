"""distill@<student>: data/teacher/<student>.npz + the teacher's model.pt + data/merged/dataset.npz
-> models/students/<student>/ and metrics/students/<student>.json.

The student (the teacher's network at distill.<student>.input_size, starting from its weights;
or distill.<student>.model, a network of its own from fresh weights) trains on the teacher's
labelled copies, validating on the val split after every epoch (dvclive/students/<student>/),
resumable from checkpoints/students/<student>/last.pt. Then: model.pt, model.onnx and, with
distill.<student>.int8, model.int8.onnx (static int8 calibrated on val faces; kept only within
distill.<student>.int8_tolerance of float32's val accuracy). The metrics: student and teacher
on the same test faces (each with its interval, the paired difference, their agreement) and the
int8 file against float32 on val and test.
"""

from dataclasses import replace
from pathlib import Path

from expressions.analysis.distillation import student_against_teacher
from expressions.analysis.evaluation import predict_split
from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import write_json
from expressions.core.sourcefiles import local_modules
from expressions.data.dataset import load_merged
from expressions.release.export import export_onnx
from expressions.release.quantize import compare, int8_model
from expressions.training.checkpoint import fingerprint
from expressions.training.distill import load_targets
from expressions.training.distributed import launch
from expressions.training.loop import train, training_speed, training_summary
from expressions.training.model_file import load_model, save_model


def main(argv: list[str]) -> None:
    name = cli.student_argument(__doc__, argv)
    params = load_params()
    spec = params.student(name)
    teacher = load_model(paths.user_path(spec.teacher))
    run = spec.student(name, teacher.variant, params.train.batch_size)
    variant = run.variant
    targets = paths.teacher_targets(name)
    soft, teacher_p = load_targets(targets, spec.temperature, spec.weight)
    merged = load_merged(paths.DATASET)
    code = [Path(__file__), *local_modules(Path(__file__))]
    with launch(replace(params.runtime, processes=1)) as runtime:
        trained = train(
            run,
            merged,
            fingerprint=fingerprint(run, targets, code),
            checkpoint=paths.student_checkpoint(name),
            live_dir=paths.student_live(name),
            runtime=runtime,
            soft=soft,
            init=None if spec.model else teacher.model.state_dict(),
        )
    device = runtime.device
    folder = paths.student(name)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(folder / "model.pt", trained.model, run, origins=merged.origins)
    student = load_model(folder / "model.pt", device)
    export_onnx(student, folder / "model.onnx")
    y_test = merged.part("test")[1]
    test = predict_split(student.model, merged, variant, device)
    report = student_against_teacher(y_test, test.proba, teacher_p["test"], variant.classes)
    report["training"] = training_summary(trained)
    write_json(paths.timing("distill", name, spec.seed), training_speed(trained))
    int8 = folder / "model.int8.onnx"
    int8.unlink(missing_ok=True)
    if spec.int8:
        val = int8_model(folder / "model.onnx", int8, merged.part("val"), spec.int8_tolerance)
        report["int8"] = {"kept": int8.exists(), "val": val.as_dict()}
        if int8.exists():
            report["int8"]["test"] = compare(folder / "model.onnx", int8, *merged.part("test"))
            report["int8"]["test"] = report["int8"]["test"].as_dict()
    write_json(paths.student_metrics(name), report)
    paths.student_checkpoint(name).unlink(missing_ok=True)
    s, t = report["student"], report["teacher"]
    print(
        f"{name}: test accuracy {s['accuracy']:.4f} in one view, its teacher "
        f"{t['accuracy']:.4f}; they agree on {report['agreement']:.1%}; {report['difference']}"
    )


if __name__ == "__main__":
    cli.run(main)
