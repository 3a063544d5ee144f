"""teach@<student>: the teacher's model.pt (distill.<student>.teacher) + data/merged/dataset.npz
-> data/teacher/<student>.npz.

The training faces and distill.<student>.copies - 1 augmented copies of them (the teacher's own
augmentation settings, drawn from distill.<student>.seed), each with the teacher's probabilities
averaged over all of its views, run by onnxruntime as `expressions predict` runs it; and its
probabilities for the val and test faces, which distill@<student> compares the student with.
Computed once: they cost a forward pass per view and face.
"""

import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.errors import ConfigError
from expressions.data.dataset import load_merged
from expressions.release.export import export_onnx
from expressions.release.onnx_model import OnnxClassifier
from expressions.training.device import make_deterministic, set_threads
from expressions.training.distill import fixed_copies, save_targets
from expressions.training.model_file import load_model
from expressions.training.recipe import Augment

CHUNK = 1024  # faces per progress step


def labelled(teacher: OnnxClassifier, x: np.ndarray, what: str) -> np.ndarray:
    """The teacher's probabilities as `expressions predict` gives them (its views averaged),
    with a progress bar."""
    chunks = range(0, len(x), CHUNK)
    parts = [
        teacher.proba(x[i : i + CHUNK])
        for i in tqdm(chunks, desc=f"teacher: {what}", unit="chunk", mininterval=1.0)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, len(teacher.classes)), np.float32)


def main(argv: list[str]) -> None:
    name = cli.student_argument(__doc__, argv)
    params = load_params()
    spec = params.student(name)
    make_deterministic()
    set_threads(params.runtime.threads)
    teacher = load_model(paths.user_path(spec.teacher))
    merged = load_merged(paths.DATASET)
    if teacher.variant.classes != merged.classes:
        raise ConfigError(
            f"distill.{name}.teacher {spec.teacher} knows the classes "
            f"{list(teacher.variant.classes)}, the dataset has {list(merged.classes)}"
        )
    t = teacher.variant.train
    augment = Augment(t.rotate, t.translate, t.crop)
    x_train, y_train = merged.part("train")
    x = fixed_copies(x_train, spec.copies, augment, spec.seed)
    y = np.tile(y_train, spec.copies)
    with tempfile.TemporaryDirectory() as scratch:  # onnxruntime: 2-3x torch's faces/s on a CPU
        exported = Path(scratch) / "teacher.onnx"
        export_onnx(teacher, exported)
        runner = OnnxClassifier.load(exported, params.runtime.threads)
        p = {
            "train": labelled(runner, x, "training copies"),
            "val": labelled(runner, merged.part("val")[0], "val"),
            "test": labelled(runner, merged.part("test")[0], "test"),
        }
    save_targets(paths.teacher_targets(name), x, y, p, spec.teacher)
    views = len(teacher.variant.views())
    print(f"teach: {len(x)} faces ({spec.copies} copies) labelled by {spec.teacher}, {views} views")


if __name__ == "__main__":
    cli.run(main)
