"""params.yaml `distill`: students, each a teacher's network trained to give in one view what the
teacher gives over all of its test-time views (training/distill.py).

A teacher is any model.pt: a variant's run (models/<variant>/seed-<seed>/model.pt), a file kept
with `dvc add`, or a model shipped in the package. The student is the teacher's own architecture,
initialised from its weights, at `input_size` (0: the teacher's), with no test-time views; or,
with `model` (a whole `model` section of params.yaml), a network of its own from fresh weights:
a smaller or faster one than the teacher, which its weights cannot start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from expressions.config.data import NAME
from expressions.config.fields import bounded, build
from expressions.config.model import ModelSpec, Run, VariantConfig
from expressions.core.errors import ConfigError

STUDENTS = "students"  # models/students/<name>/: a student's files (core/paths.py)


@dataclass(frozen=True, kw_only=True)
class DistillSpec:
    """One student. `copies`: the training faces as they are plus copies-1 randomly augmented
    copies (the teacher's own augmentation), each labelled once by the teacher. The loss is
    `weight` x T^2 x KL(teacher at T || student at T) + (1 - weight) x cross-entropy with the
    true labels; the teacher's probabilities are re-tempered as softmax(log p / T)."""

    # What teach@ labels: written out in params.yaml (DVC tracks each key teach@ declares)
    teacher: str
    copies: int = bounded(1, 32)
    seed: int = bounded(0, 2**31 - 1)
    # How distill@ trains
    temperature: float = bounded(0.0, 20.0, default=2.0, open_lo=True)
    weight: float = bounded(0.0, 1.0, default=0.9)
    epochs: int = bounded(1, 10_000, default=5)
    lr: float = bounded(0.0, 10.0, default=3e-4, open_lo=True)
    input_size: int = bounded(0, 1024, default=0)
    int8: bool = True  # also an int8 ONNX model, kept where it stays within int8_tolerance
    int8_tolerance: float = bounded(0.0, 1.0, default=0.005)  # validation accuracy it may lose
    # The student's own network (the keys of params.yaml `model`), trained from fresh weights;
    # empty: the teacher's network from the teacher's weights
    model: dict = field(default_factory=dict)

    def own_network(self, name: str) -> ModelSpec | None:
        """The student's network when it is not the teacher's (checked as params.yaml's model)."""
        return build(ModelSpec, self.model, f"distill.{name}.model") if self.model else None

    def student(self, name: str, teacher: VariantConfig, batch_size: int) -> Run:
        """The student's run: the teacher's classes and network (or `model`), one view, this
        recipe and seed, train.batch_size of params.yaml."""
        model = self.own_network(name)
        if model is not None:
            if self.input_size:
                raise ConfigError(
                    f"distill.{name}.input_size is for the teacher's network; with "
                    f"distill.{name}.model give model.input_size instead"
                )
            model.check(teacher.image_size, f"distill.{name}.model")
        elif teacher.model.arch == "study" and self.input_size:
            raise ConfigError(
                f"distill.{name}.input_size applies to ImageNet backbones, and the teacher "
                f"{self.teacher} is the study CNN; leave it at 0"
            )
        else:
            model = teacher.model
            if self.input_size:
                model = replace(model, input_size=self.input_size)
        train = replace(
            teacher.train,
            epochs=self.epochs,
            lr=self.lr,
            augment=False,  # the fixed copies are the augmentation: the teacher saw exactly those
            balance="none",
            early_stopping=0,
            mixup=0.0,
            cutmix=0.0,
            ema=0.0,
            warmup_epochs=0,
            schedule="cosine",
            tta_flip=False,
            tta_crops=False,
            batch_size=batch_size,
        )
        return Run(
            VariantConfig(name, teacher.classes, teacher.image_size, model, train), self.seed
        )


def check_distill(raw: object, variants: dict) -> dict[str, DistillSpec]:
    """`distill` of params.yaml: student name -> its settings; names clash with no variant."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"distill must map student names to their settings, not {raw!r}")
    students = {}
    for name, spec in raw.items():
        if not NAME.match(str(name)):
            raise ConfigError(f"distill.{name} must be a lower-case name")
        if name in variants or name == "release":
            raise ConfigError(
                f"distill.{name} has the name of a variant (or of models/release); rename it"
            )
        if STUDENTS in variants:
            raise ConfigError(f"variants.{STUDENTS} clashes with models/{STUDENTS}; rename it")
        students[name] = build(DistillSpec, spec, f"distill.{name}")
        if not students[name].teacher:
            raise ConfigError(f"distill.{name}.teacher is empty; give a model.pt file")
        students[name].own_network(name)  # a bad key or value stops here, before any stage
    return students
