"""The one reader of params.yaml: validates every knob into typed, frozen objects.

Everything downstream takes these objects (or plain values from them), so a typo or an out-of-range
value stops the pipeline here with one sentence naming the key, instead of deep inside a stage.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from expressions.data.sources import LAYOUTS
from expressions.errors import ConfigError

SOURCES = ("synthetic", "kaggle", "local")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _range(lo: float, hi: float, default: Any = MISSING, *, open_lo: bool = False) -> Any:
    return field(default=default, metadata={"range": (lo, hi, open_lo)})


def _choice(*choices: str, default: Any = MISSING) -> Any:
    return field(default=default, metadata={"choices": choices})


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """The study's CNN: `depth` conv blocks of width `channels[i]`, then a two-layer head."""

    kernel: int = _range(1, 11)
    depth: int = _range(1, 8)
    channels: tuple[int, ...] = ()
    hidden: int = _range(1, 4096)
    dropout: float = _range(0.0, 0.95)


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """One training recipe; params.yaml's defaults are the study's (Adam, 3 epochs, no tricks)."""

    epochs: int = _range(1, 10_000)
    lr: float = _range(0.0, 10.0, open_lo=True)
    batch_size: int = _range(1, 65_536)
    seed: int = _range(0, 2**31 - 1)
    threads: int = _range(0, 1024)
    workers: int = _range(0, 64)
    device: str = _choice("auto", "cpu", "cuda")
    amp: str = _choice("none", "bf16", "fp16")
    channels_last: bool = True
    augment: bool = False
    rotate: float = _range(0.0, 180.0)
    translate: float = _range(0.0, 0.5)
    crop: float = _range(0.5, 1.0)
    balance: str = _choice("none", "weighted_loss", "sampler")
    label_smoothing: float = _range(0.0, 0.5)
    weight_decay: float = _range(0.0, 1.0)
    schedule: str = _choice("none", "cosine", "step")
    warmup_epochs: int = _range(0, 10_000)
    early_stopping: int = _range(0, 10_000)
    tta_flip: bool = False


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    source: str = _choice(*SOURCES)
    image_size: int = _range(8, 512)
    min_side: int = _range(1, 4096)
    workers: int = _range(0, 256)
    datasets: dict[str, str] = field(default_factory=dict)
    kaggle: dict[str, str | None] = field(default_factory=dict)
    local: dict[str, str | None] = field(default_factory=dict)
    synthetic: dict[str, Any] = field(default_factory=dict)

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
    seed: int = _range(0, 2**31 - 1)
    test: float = _range(0.0, 0.9, open_lo=True)
    val: float = _range(0.0, 0.9)


@dataclass(frozen=True, kw_only=True)
class ReleaseConfig:
    """What the `release` stage ships: one variant, temperature-calibrated on the val split."""

    variant: str = "tuned"
    ece_bins: int = _range(2, 100, default=15)


def release_config(params: Params) -> ReleaseConfig:
    """The optional `release` section (defaults when absent), checked against the variants."""
    release = _build(ReleaseConfig, params.raw.get("release") or {}, "release")
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
            model=_build(ModelSpec, raw["model"], "model"),
            train=_build(TrainSpec, raw["train"], "train"),
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
                f"variant {name!r} is not in params.yaml variants {list(self.variants)}"
            )
        merged = {
            k: _deep_merge(self.raw[k], self.variants[name].get(k, {})) for k in ("model", "train")
        }
        where = f"variants.{name}"
        model = _check_model(
            _build(ModelSpec, merged["model"], f"{where}.model"),
            self.data.image_size,
            f"{where}.model",
        )
        train = _build(TrainSpec, merged["train"], f"{where}.train")
        return VariantConfig(name, self.labels.classes, self.data.image_size, model, train)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = (
            _deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _typename(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, annotation: str, key: str) -> Any:
    """Check a YAML value against a field's annotation; ints are accepted where floats are meant."""
    if annotation == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, not {value!r}")
        return value
    if annotation == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be a whole number, not {value!r}")
        return value
    if annotation == "float":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"{key} must be a number, not {value!r}")
        return float(value)
    if annotation == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, not {value!r}")
        return value
    if annotation.startswith("tuple"):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key} must be a list, not {value!r}")
        inner = "int" if "int" in annotation else "str"
        return tuple(_coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    if annotation.startswith("dict"):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping, not {value!r}")
        return dict(value)
    raise AssertionError(f"no coercion for {annotation}")


def _check_bounds(value: Any, meta: Any, key: str) -> None:
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"{key} is {value!r}; allowed: {' | '.join(meta['choices'])}")
    if "range" in meta:
        lo, hi, open_lo = meta["range"]
        if not ((lo < value) if open_lo else (lo <= value)) or value > hi:
            left = "(" if open_lo else "["
            raise ConfigError(f"{key} is {value!r}; allowed range {left}{lo}, {hi}]")


def _build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass `cls` from a params mapping: no unknown or missing keys, right types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping of keys, not {raw!r}")
    known = {f.name: f for f in fields(cls) if f.name != "raw"}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key {where}.{unknown[0]} in params.yaml; known keys: {', '.join(known)}"
        )
    values = {}
    for name, f in known.items():
        key = f"{where}.{name}"
        if name not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{key} is missing from params.yaml")
            continue
        values[name] = _coerce(raw[name], str(f.type), key)
        _check_bounds(values[name], f.metadata, key)
    return cls(**values)


def _check_model(spec: ModelSpec, image_size: int, where: str) -> ModelSpec:
    side_after = image_size // 2**spec.depth
    if side_after < 1:
        most = int(math.log2(image_size))
        raise ConfigError(
            f"{where}.depth={spec.depth} pools a {image_size} px image down to nothing; "
            f"allowed range [1, {most}] for data.image_size {image_size}"
        )
    if len(spec.channels) < spec.depth or any(c < 1 for c in spec.channels):
        raise ConfigError(
            f"{where}.channels needs at least depth={spec.depth} positive widths, "
            f"got {list(spec.channels)}"
        )
    if spec.kernel > image_size:
        raise ConfigError(
            f"{where}.kernel={spec.kernel} is larger than data.image_size {image_size}"
        )
    return spec


def _check_data(data: DataConfig) -> None:
    for name, layout in data.datasets.items():
        if not _NAME.match(name):
            raise ConfigError(
                f"data.datasets key {name!r} must be lower-case letters, digits and _"
            )
        if layout not in LAYOUTS:
            raise ConfigError(
                f"data.datasets.{name} is {layout!r}; allowed layouts: {' | '.join(LAYOUTS)}"
            )
        source, where = data.raw_source(name)
        if source == "local" and not where:
            raise ConfigError(f"data.source is local but data.local.{name} gives no path for it")
        if source == "kaggle" and not where:
            raise ConfigError(
                f"data.source is kaggle but data.kaggle.{name} names no slug; set data.local.{name}"
            )
        if layout == "folder" and source != "local":
            raise ConfigError(
                f"data.datasets.{name} is a folder dataset: set data.local.{name} to its path"
            )
    if not data.datasets:
        raise ConfigError("data.datasets is empty; name at least one dataset")
    synthetic = data.synthetic
    if set(synthetic) != {"scale", "seed"}:
        raise ConfigError("data.synthetic must have exactly the keys scale and seed")
    _check_bounds(
        _coerce(synthetic["scale"], "float", "data.synthetic.scale"),
        {"range": (0.0, 1.0, True)},
        "data.synthetic.scale",
    )
    _check_bounds(
        _coerce(synthetic["seed"], "int", "data.synthetic.seed"),
        {"range": (0, 2**31 - 1, False)},
        "data.synthetic.seed",
    )


def _check_labels(labels: LabelConfig, datasets: dict[str, str]) -> None:
    if len(labels.classes) < 2 or len(set(labels.classes)) != len(labels.classes):
        raise ConfigError(
            f"labels.classes needs two or more distinct names, got {list(labels.classes)}"
        )
    for dataset, mapping in labels.map.items():
        if dataset not in datasets:
            raise ConfigError(
                f"labels.map.{dataset} names a dataset that data.datasets does not have"
            )
        for original, target in (mapping or {}).items():
            if target not in labels.classes:
                raise ConfigError(
                    f"labels.map.{dataset}.{original} maps to {target!r}, which is not in "
                    f"labels.classes {list(labels.classes)}"
                )
    reached = {t for m in labels.map.values() for t in (m or {}).values()}
    missing = [c for c in labels.classes if c not in reached]
    if missing:
        raise ConfigError(
            f"class {missing[0]!r} in labels.classes gets no images: no labels.map entry maps to it"
        )


def parse_params(raw: dict[str, Any]) -> Params:
    """Validate a params mapping (as loaded from params.yaml) into Params."""
    if not isinstance(raw, dict):
        raise ConfigError("params.yaml must be a mapping of sections")
    sections = ("data", "labels", "split", "model", "train", "variants")
    for name in sections:
        if name not in raw:
            raise ConfigError(f"section {name} is missing from params.yaml")
    unknown = sorted(set(raw) - {*sections, "release"})
    if unknown:
        raise ConfigError(
            f"unknown section {unknown[0]} in params.yaml; known: {', '.join(sections)}"
        )
    data = _build(DataConfig, raw["data"], "data")
    _check_data(data)
    labels = _build(LabelConfig, raw["labels"], "labels")
    _check_labels(labels, data.datasets)
    variants = raw["variants"] or {}
    if not isinstance(variants, dict) or not variants:
        raise ConfigError(
            "variants must map at least one variant name (e.g. main: {}) to its overrides"
        )
    params = Params(
        data=data,
        labels=labels,
        split=_build(SplitConfig, raw["split"], "split"),
        model=_check_model(_build(ModelSpec, raw["model"], "model"), data.image_size, "model"),
        train=_build(TrainSpec, raw["train"], "train"),
        variants={k: v or {} for k, v in variants.items()},
        raw=raw,
    )
    for name, override in params.variants.items():
        if (
            not _NAME.match(name)
            or not isinstance(override, dict)
            or set(override) - {"model", "train"}
        ):
            raise ConfigError(
                f"variants.{name} must be a lower-case name mapping to model/train overrides"
            )
        params.variant(name)
    release_config(params)
    return params


def load_params(path: Path | str = "params.yaml") -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; run from the project root") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from None
    return parse_params(raw)
