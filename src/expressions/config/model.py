"""The model-side sections of params.yaml: model, train, release, a variant's resolved
settings, and a run (a variant trained with one seed). Each knob's type, bounds and default sit
on its field; the checks across keys sit on the section they concern (`check`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from expressions.config.fields import bounded, build, choice
from expressions.config.runtime import KEYS as RUNTIME_KEYS
from expressions.core.errors import ConfigError
from expressions.data.views import View, views

BUILT_IN_ARCHS = ("study", "efficientnet_lite0")  # the rest come from torchvision


def first_seed(seeds: Sequence[int]) -> int:
    """The run that stands for its variant wherever one run is drawn or shipped (figures, the
    confusion plot, ONNX, the release): the first of train.seeds, which dvc.yaml writes
    `${train.seeds.0}` because DVC must know those paths before any script runs."""
    return seeds[0]


def check_seeds(seeds: object) -> tuple[int, ...]:
    """train.seeds: the runs of every variant, each a train@<variant>-<seed> stage."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):  # a count, as -S seeds=3 gives
        raise ConfigError(
            f"train.seeds is a list of seeds, one run each: for {seeds} runs write "
            f"-S 'train.seeds=[{','.join(map(str, range(seeds)))}]', not {seeds}"
        )
    if not isinstance(seeds, list | tuple):
        raise ConfigError(f"train.seeds is a list of seeds, e.g. [0, 1, 2], not {seeds!r}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(
            f"train.seeds needs one or more distinct seeds, e.g. [0, 1, 2], not {list(seeds)}"
        )
    if any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**31 for s in seeds):
        raise ConfigError(f"train.seeds are whole numbers in [0, 2**31), not {list(seeds)}")
    return tuple(seeds)


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """The study's CNN (`depth` conv blocks of width `channels[i]`, then a two-layer head), or
    with `arch` an ImageNet network (training/backbones.py): `pretrained` none | imagenet | a
    state dict file, faces upsampled to `input_size` (0 = data.image_size), `dropout` its head's.
    """

    kernel: int = bounded(1, 11)
    depth: int = bounded(1, 8)
    channels: tuple[int, ...] = ()
    hidden: int = bounded(1, 4096)
    dropout: float = bounded(0.0, 0.95)
    arch: str = "study"  # study | efficientnet_lite0 | a torchvision classification model
    pretrained: str = "none"
    input_size: int = bounded(0, 1024, default=0)

    def check(self, image_size: int, where: str) -> None:
        """A network that can be built for `image_size` px faces."""
        if self.arch != "study":
            self._check_backbone(where)
            return
        if self.pretrained != "none" or self.input_size:
            key = "pretrained" if self.pretrained != "none" else "input_size"
            raise ConfigError(
                f"{where}.{key} applies to ImageNet backbones, and {where}.arch is study; "
                f"leave it at {'none' if key == 'pretrained' else 0} or pick a model.arch"
            )
        if image_size // 2**self.depth < 1:
            raise ConfigError(
                f"{where}.depth={self.depth} pools a {image_size} px image down to nothing; "
                f"allowed range [1, {int(math.log2(image_size))}] for data.image_size {image_size}"
            )
        if len(self.channels) < self.depth or any(c < 1 for c in self.channels):
            raise ConfigError(
                f"{where}.channels needs at least depth={self.depth} positive widths, "
                f"got {list(self.channels)}"
            )
        if self.kernel > image_size:
            raise ConfigError(
                f"{where}.kernel={self.kernel} is larger than data.image_size {image_size}"
            )

    def _check_backbone(self, where: str) -> None:
        """An arch that exists (torchvision is imported only to name one it ships)."""
        if self.arch not in BUILT_IN_ARCHS:
            import torchvision  # only for an arch beyond the built-in ones: it takes seconds

            archs = torchvision.models.list_models(module=torchvision.models)  # classification
            if self.arch not in archs:
                raise ConfigError(
                    f"{where}.arch is {self.arch!r}; allowed: {' | '.join(BUILT_IN_ARCHS)} | "
                    f"a torchvision classification model ({', '.join(archs)})"
                )
        if not self.pretrained:
            raise ConfigError(
                f"{where}.pretrained is empty; allowed: none | imagenet | a file path"
            )
        if 0 < self.input_size < 32:
            raise ConfigError(
                f"{where}.input_size is {self.input_size}; an ImageNet network needs 32 px or "
                "more (0 = data.image_size)"
            )


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """One training recipe; params.yaml's defaults are the study's (Adam, 3 epochs, no tricks).
    Which seeds it runs with (train.seeds) is the pipeline's business, the same for every
    variant (Params.seeds); one run's seed is its Run's."""

    epochs: int = bounded(1, 10_000)
    lr: float = bounded(0.0, 10.0, open_lo=True)
    batch_size: int = bounded(1, 65_536)
    amp: str = choice("auto", "none", "bf16", "fp16")
    channels_last: bool = True
    augment: bool = False
    rotate: float = bounded(0.0, 180.0)
    translate: float = bounded(0.0, 0.5)
    crop: float = bounded(0.5, 1.0)
    balance: str = choice("none", "weighted_loss", "sampler")
    label_smoothing: float = bounded(0.0, 0.5)
    weight_decay: float = bounded(0.0, 1.0)
    schedule: str = choice("none", "cosine", "step", "onecycle")
    warmup_epochs: int = bounded(0, 10_000)
    early_stopping: int = bounded(0, 10_000)
    tta_flip: bool = False
    tta_crops: bool = False  # evaluation averages five crops (each `tta_crop` of the side) too
    tta_crop: float = bounded(0.5, 1.0, default=0.9)  # the test-time crops' side, a fraction
    ema: float = bounded(0.0, 0.99999, default=0.0)  # weight average's decay per step; 0 = off
    mixup: float = bounded(0.0, 10.0, default=0.0)  # Beta(a, a) blend of image pairs; 0 = off
    cutmix: float = bounded(0.0, 10.0, default=0.0)  # Beta(a, a) pasted box; 0 = off
    backbone_lr: float = bounded(0.0, 1.0, default=1.0)  # x train.lr for a pretrained backbone

    def check(self, model: ModelSpec, where: str) -> None:
        """Only a pretrained backbone has a learning rate of its own."""
        if self.schedule == "onecycle" and self.warmup_epochs:
            raise ConfigError(
                f"{where}.train.warmup_epochs is {self.warmup_epochs}, but schedule onecycle "
                "warms up over its first 30 % of steps itself; leave it at 0"
            )
        if model.arch == "study" and self.backbone_lr != 1.0:
            raise ConfigError(
                f"{where}.train.backbone_lr is {self.backbone_lr}, but the study CNN has no "
                f"pretrained backbone ({where}.model.arch is study); leave it at 1.0"
            )


@dataclass(frozen=True, kw_only=True)
class ReleaseConfig:
    """What the `release` stage ships: one variant, temperature-calibrated on the val split."""

    variant: str = "tuned"
    ece_bins: int = bounded(2, 100, default=15)

    def check(self, variants: dict) -> None:
        if self.variant not in variants:
            raise ConfigError(
                f"release.variant is {self.variant!r}; allowed: {' | '.join(variants)}"
            )
        if "release" in variants:
            raise ConfigError("variants.release clashes with models/release; rename that variant")


@dataclass(frozen=True)
class VariantConfig:
    """What one train/evaluate pair needs; written to configs/<variant>.json by `resolve`."""

    name: str
    classes: tuple[str, ...]
    image_size: int
    model: ModelSpec
    train: TrainSpec

    def views(self) -> list[View]:
        """What evaluation and prediction average the probabilities over (data/views.py)."""
        t = self.train
        return views(self.image_size, t.tta_flip, t.tta_crops, t.tta_crop)

    def to_json(self) -> str:
        """configs/<variant>.json: what every run of the variant shares, so adding a seed to
        train.seeds retrains none of the runs that were there."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> VariantConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, raw: dict) -> VariantConfig:
        train = {k: v for k, v in raw["train"].items() if k not in OLDER_TRAIN_KEYS}
        train.setdefault("tta_crop", train.get("crop", 0.9))  # one `crop` served both, once
        return cls(
            name=raw["name"],
            classes=tuple(raw["classes"]),
            image_size=raw["image_size"],
            model=build(ModelSpec, raw["model"], "model"),
            train=build(TrainSpec, train, "train"),
        )


# Keys that older model.pt files kept under train: the runtime's knobs (now params.yaml runtime),
# the seeds and the run's own seed (now Run.seed). The shipped models are such files.
OLDER_TRAIN_KEYS = (*RUNTIME_KEYS, "seeds", "seed")


@dataclass(frozen=True)
class Run:
    """One training run, train@<variant>-<seed>: a variant's settings and the seed that draws
    its first weights, batch order, augmentation and dropout. model.pt keeps it."""

    variant: VariantConfig
    seed: int = 0

    def to_json(self) -> str:
        return json.dumps({**asdict(self.variant), "seed": self.seed}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Run:
        raw = json.loads(text)
        seed = raw.pop("seed", raw["train"].get("seed", 0))  # older files: under train
        return cls(VariantConfig.from_dict(raw), seed)
