"""The one reader of params.yaml: validates every knob into typed, frozen objects.

Everything downstream takes these objects (or plain values from them), so a typo or an out-of-range
value stops the pipeline here with one sentence naming the key, instead of deep inside a stage.

Each section is a frozen dataclass whose fields carry their bounds or choices; validation.py's
`build` checks a YAML mapping against one; config_checks.py holds the checks across keys (a depth
the image size allows, a label map that reaches every class).
params.yaml is read as YAML 1.2, as DVC reads it, so `lr: 1e-3` is a number.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from expressions import config_checks as checks
from expressions import paths
from expressions.errors import ConfigError
from expressions.validation import bounded, build, choice

SOURCES = ("synthetic", "kaggle", "local")
SECTIONS = ("data", "labels", "split", "model", "train", "variants")


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


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """One training recipe; params.yaml's defaults are the study's (Adam, 3 epochs, no tricks)."""

    epochs: int = bounded(1, 10_000)
    lr: float = bounded(0.0, 10.0, open_lo=True)
    batch_size: int = bounded(1, 65_536)
    seed: int = bounded(0, 2**31 - 1)
    threads: int = bounded(0, 1024)
    workers: int = bounded(0, 64)
    device: str = choice("auto", "cpu", "cuda")
    amp: str = choice("auto", "none", "bf16", "fp16")
    channels_last: bool = True
    augment: bool = False
    rotate: float = bounded(0.0, 180.0)
    translate: float = bounded(0.0, 0.5)
    crop: float = bounded(0.5, 1.0)
    balance: str = choice("none", "weighted_loss", "sampler")
    label_smoothing: float = bounded(0.0, 0.5)
    weight_decay: float = bounded(0.0, 1.0)
    schedule: str = choice("none", "cosine", "step")
    warmup_epochs: int = bounded(0, 10_000)
    early_stopping: int = bounded(0, 10_000)
    tta_flip: bool = False
    backbone_lr: float = bounded(0.0, 1.0, default=1.0)  # x train.lr for a pretrained backbone
    processes: int | str = 1  # training processes on this machine; 'auto' = one per GPU


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    scale: float = bounded(0.0, 1.0, open_lo=True)  # fraction of each real dataset's counts
    seed: int = bounded(0, 2**31 - 1)


@dataclass(frozen=True, kw_only=True)
class LimitsConfig:
    """Ceilings on what one input may cost, far above the real datasets (all under 1 GiB, images
    of at most a few megapixels), so that a hostile or mistaken input is refused, not absorbed."""

    extracted_gib: float = bounded(0.0, 1024.0, 20.0, open_lo=True)  # all files of one dataset
    ratio: float = bounded(1.0, 1_000_000.0, 100.0)  # uncompressed / compressed, per member
    megapixels: float = bounded(0.0, 1000.0, 25.0, open_lo=True)  # per image, from its header


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    source: str = choice(*SOURCES)
    image_size: int = bounded(8, 512)
    min_side: int = bounded(1, 4096)
    workers: int = bounded(0, 256)
    datasets: dict[str, str] = field(default_factory=dict)
    kaggle: dict[str, str | None] = field(default_factory=dict)
    local: dict[str, str | None] = field(default_factory=dict)
    synthetic: SyntheticConfig
    limits: LimitsConfig = field(default_factory=LimitsConfig)

    def raw_source(self, dataset: str) -> tuple[str, str | None]:
        """Where `dataset` comes from: a local path set for it wins over data.source."""
        if self.local.get(dataset):
            return "local", self.local[dataset]
        if self.source == "kaggle":
            return "kaggle", self.kaggle.get(dataset)
        return self.source, None


@dataclass(frozen=True, kw_only=True)
class LabelConfig:
    classes: tuple[str, ...] = ()
    map: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SplitConfig:
    seed: int = bounded(0, 2**31 - 1)
    test: float = bounded(0.0, 0.9, open_lo=True)
    val: float = bounded(0.0, 0.9)
    group: dict[str, str] = field(default_factory=dict)  # dataset -> regex naming a subject/clip
    near_duplicates: int = bounded(-1, 32)  # max perceptual-hash distance in bits; -1 = off


@dataclass(frozen=True, kw_only=True)
class ReleaseConfig:
    """What the `release` stage ships: one variant, temperature-calibrated on the val split."""

    variant: str = "tuned"
    ece_bins: int = bounded(2, 100, default=15)


def release_config(params: Params) -> ReleaseConfig:
    """The optional `release` section (defaults when absent), checked against the variants."""
    release = build(ReleaseConfig, params.raw.get("release") or {}, "release")
    if release.variant not in params.variants:
        raise ConfigError(
            f"release.variant is {release.variant!r}; allowed: {' | '.join(params.variants)}"
        )
    if "release" in params.variants:
        raise ConfigError("variants.release clashes with models/release; rename that variant")
    return release


@dataclass(frozen=True)
class VariantConfig:
    """What one train/evaluate pair needs; written to configs/<variant>.json by `resolve`."""

    name: str
    classes: tuple[str, ...]
    image_size: int
    model: ModelSpec
    train: TrainSpec

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> VariantConfig:
        raw = json.loads(text)
        return cls(
            name=raw["name"],
            classes=tuple(raw["classes"]),
            image_size=raw["image_size"],
            model=build(ModelSpec, raw["model"], "model"),
            train=build(TrainSpec, raw["train"], "train"),
        )


@dataclass(frozen=True)
class Params:
    data: DataConfig
    labels: LabelConfig
    split: SplitConfig
    model: ModelSpec
    train: TrainSpec
    variants: dict[str, dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    def variant(self, name: str) -> VariantConfig:
        """The base model/train sections with the variant's overrides applied, validated."""
        if name not in self.variants:
            raise ConfigError(
                f"variant {name!r} is not in params.yaml; the variants are {', '.join(self.variants)}"
            )
        where = f"variants.{name}"
        merged = {
            k: _deep_merge(self.raw[k], self.variants[name].get(k) or {})
            for k in ("model", "train")
        }
        model = build(ModelSpec, merged["model"], f"{where}.model")
        checks.check_model(model, self.data.image_size, f"{where}.model")
        train = build(TrainSpec, merged["train"], f"{where}.train")
        checks.check_backbone_lr(model, train, where)
        return VariantConfig(name, self.labels.classes, self.data.image_size, model, train)

    def dataset(self, name: str) -> str:
        """The layout of dataset `name`, or one sentence listing the datasets there are."""
        if name not in self.data.datasets:
            raise ConfigError(
                f"dataset {name!r} is not in params.yaml data.datasets; "
                f"the datasets are {', '.join(self.data.datasets)}"
            )
        return self.data.datasets[name]


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _deep_merge(out[key], value) if nested else value
    return out


def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """`train.amp` = value in a params mapping, as `dvc exp run -S train.amp=...` sets it in
    params.yaml; missing parents are created (a variant's `{}` gains its `train:`)."""
    *parents, last = dotted.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def parse_params(raw: dict[str, Any]) -> Params:
    """Validate a params mapping (as loaded from params.yaml) into Params."""
    if not isinstance(raw, dict):
        raise ConfigError("params.yaml must be a mapping of sections")
    for name in SECTIONS:
        if name not in raw:
            raise ConfigError(f"section {name} is missing from params.yaml")
    unknown = sorted(set(raw) - {*SECTIONS, "release"})  # release: optional, release_config
    if unknown:
        raise ConfigError(
            f"unknown section {unknown[0]} in params.yaml; known: {', '.join(SECTIONS)}"
        )
    data = build(
        DataConfig,
        raw["data"],
        "data",
        {"SyntheticConfig": SyntheticConfig, "LimitsConfig": LimitsConfig},
    )
    checks.check_data(data)
    labels = build(LabelConfig, raw["labels"], "labels")
    checks.check_labels(labels, data.datasets)
    model = build(ModelSpec, raw["model"], "model")
    checks.check_model(model, data.image_size, "model")
    split = build(SplitConfig, raw["split"], "split")
    checks.check_split(split, data.datasets)
    params = Params(
        data=data,
        labels=labels,
        split=split,
        model=model,
        train=build(TrainSpec, raw["train"], "train"),
        variants=checks.check_variants(raw["variants"]),
        raw=raw,
    )
    for name in params.variants:
        params.variant(name)
    release_config(params)
    return params


def read_yaml(path: Path) -> Any:
    """A YAML file as plain dicts and lists, read as YAML 1.2 (as DVC does): 1e-3 is a number."""
    try:
        with open(path, encoding="utf-8") as fh:
            return YAML(typ="safe", pure=True).load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; run from the project root") from None
    except YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from None


def load_params(path: Path | str = paths.PARAMS) -> Params:
    return parse_params(read_yaml(Path(path)))


def load_variant(name: str, params: Path | str = paths.PARAMS) -> VariantConfig:
    """The settings train and evaluate run with, as resolve@<name> wrote them."""
    path = paths.config(name)
    if not path.exists():
        load_params(params).variant(name)  # an unknown name says so, listing the variants
        raise ConfigError(f"{path} not found; run `dvc repro resolve@{name}` first")
    return VariantConfig.from_json(path.read_text())
