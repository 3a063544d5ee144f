"""The one reader of params.yaml: every section validated into typed, frozen objects.

Everything downstream takes these objects (or plain values from them), so a typo or an
out-of-range value stops the pipeline here with one sentence naming the key, instead of deep
inside a stage. params.yaml is read as YAML 1.2, as DVC reads it, so `lr: 1e-3` is a number.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from expressions.config.data import (
    NAME,
    DataConfig,
    LabelConfig,
    LimitsConfig,
    SplitConfig,
    SyntheticConfig,
)
from expressions.config.distill import DistillSpec, check_distill
from expressions.config.fields import build, closest
from expressions.config.model import (
    ModelSpec,
    ReleaseConfig,
    Run,
    TrainSpec,
    VariantConfig,
    check_seeds,
    first_seed,
)
from expressions.config.runtime import KEYS as RUNTIME_KEYS
from expressions.config.runtime import RuntimeSpec
from expressions.core import paths
from expressions.core.errors import ConfigError

SECTIONS = ("data", "labels", "split", "model", "train", "variants")
OPTIONAL = ("release", "distill", "runtime")


@dataclass(frozen=True)
class Params:
    data: DataConfig
    labels: LabelConfig
    split: SplitConfig
    model: ModelSpec
    train: TrainSpec
    variants: dict[str, dict[str, Any]]
    release: ReleaseConfig
    raw: dict[str, Any] = field(repr=False, compare=False)
    seeds: tuple[int, ...] = (0,)  # train.seeds: every variant's runs, train@<variant>-<seed>
    runtime: RuntimeSpec = field(default_factory=RuntimeSpec)
    distill: dict[str, DistillSpec] = field(default_factory=dict)

    @property
    def first_seed(self) -> int:
        return first_seed(self.seeds)

    def variant(self, name: str) -> VariantConfig:
        """The base model/train sections with the variant's overrides applied, validated."""
        if name not in self.variants:
            raise ConfigError(
                f"variant {name!r} is not in params.yaml; the variants are {', '.join(self.variants)}"
            )
        where = f"variants.{name}"
        if "seeds" in (self.variants[name].get("train") or {}):
            raise ConfigError(
                f"{where}.train.seeds: every variant runs with the same seeds, so that they "
                "compare on equal terms; set train.seeds instead"
            )
        _not_train(self.variants[name].get("train") or {}, f"{where}.train")
        merged = {
            k: _deep_merge(self.raw[k], self.variants[name].get(k) or {})
            for k in ("model", "train")
        }
        merged["train"].pop("seeds", None)
        model = build(ModelSpec, merged["model"], f"{where}.model")
        model.check(self.data.image_size, f"{where}.model")
        train = build(TrainSpec, merged["train"], f"{where}.train")
        train.check(model, where)
        return VariantConfig(name, self.labels.classes, self.data.image_size, model, train)

    def student(self, name: str) -> DistillSpec:
        """A student's settings, or one sentence listing the students there are."""
        if name not in self.distill:
            there = ", ".join(self.distill) or "none"
            raise ConfigError(f"student {name!r} is not in params.yaml distill; there are: {there}")
        return self.distill[name]

    def dataset(self, name: str) -> str:
        """The layout of dataset `name`, or one sentence listing the datasets there are."""
        if name not in self.data.datasets:
            raise ConfigError(
                f"dataset {name!r} is not in params.yaml data.datasets; "
                f"the datasets are {', '.join(self.data.datasets)}"
            )
        return self.data.datasets[name]


def _not_train(section: dict[str, Any], where: str) -> None:
    """train.threads and its kin moved to runtime, and a run's seed is no recipe's: one sentence
    for a params.yaml, a `-S` or a habit of before."""
    if "seed" in section:
        raise ConfigError(
            f"{where}.seed is not a params.yaml key: each run's seed is one of train.seeds, "
            "e.g. seeds: [0, 1, 2]"
        )
    moved = [k for k in RUNTIME_KEYS if k in section]
    if moved:
        raise ConfigError(
            f"{where}.{moved[0]} is now runtime.{moved[0]}: it changes how fast a run goes, not "
            f"what it learns, so it re-runs nothing (e.g. -S runtime.{moved[0]}=...)"
        )


def _train_and_seeds(section: Any) -> tuple[TrainSpec, tuple[int, ...]]:
    """The base recipe, and train.seeds apart: the runs of every variant, not a recipe's knob."""
    if not isinstance(section, dict):
        return build(TrainSpec, section, "train"), ()  # raises: one sentence, not a mapping
    _not_train(section, "train")
    recipe = {k: v for k, v in section.items() if k != "seeds"}
    return build(TrainSpec, recipe, "train"), check_seeds(section.get("seeds", [0]))


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


def check_variants(variants: Any) -> dict[str, dict[str, Any]]:
    """Lower-case names, each overriding model and train keys only."""
    if not isinstance(variants, dict) or not variants:
        raise ConfigError(
            "variants must map at least one variant name (e.g. main: {}) to its overrides"
        )
    for name, override in variants.items():
        if not NAME.match(str(name)) or not isinstance(override or {}, dict):
            raise ConfigError(
                f"variants.{name} must be a lower-case name mapping to model/train overrides"
            )
        for section, value in (override or {}).items():
            if section in ("model", "train") and not isinstance(value or {}, dict):
                raise ConfigError(
                    f"variants.{name}.{section} must be a mapping of {section} keys to "
                    f"override, not {value!r}"
                )
        unknown = set(override or {}) - {"model", "train"}
        if unknown:
            raise ConfigError(
                f"variants.{name}.{sorted(unknown)[0]} is not overridable; a variant overrides "
                "model and train only"
            )
    return {k: v or {} for k, v in variants.items()}


def parse_params(raw: dict[str, Any]) -> Params:
    """Validate a params mapping (as loaded from params.yaml) into Params."""
    if not isinstance(raw, dict):
        raise ConfigError("params.yaml must be a mapping of sections")
    for name in SECTIONS:
        if name not in raw:
            raise ConfigError(f"section {name} is missing from params.yaml")
    unknown = sorted(set(raw) - {*SECTIONS, *OPTIONAL})
    if unknown:
        raise ConfigError(
            f"unknown section {unknown[0]} in params.yaml{closest(unknown[0], SECTIONS)}; "
            f"known: {', '.join(SECTIONS)}"
        )
    nested = {"SyntheticConfig": SyntheticConfig, "LimitsConfig": LimitsConfig}
    data = build(DataConfig, raw["data"], "data", nested)
    data.check()
    labels = build(LabelConfig, raw["labels"], "labels")
    labels.check(data.datasets)
    model = build(ModelSpec, raw["model"], "model")
    model.check(data.image_size, "model")
    train, seeds = _train_and_seeds(raw["train"])
    split = build(SplitConfig, raw["split"], "split")
    split.check(data.datasets)
    variants = check_variants(raw["variants"])
    release = build(ReleaseConfig, raw.get("release") or {}, "release")
    release.check(variants)
    params = Params(
        data=data,
        labels=labels,
        split=split,
        model=model,
        train=train,
        seeds=seeds,
        variants=variants,
        release=release,
        raw=raw,
        distill=check_distill(raw.get("distill"), variants),
        runtime=build(RuntimeSpec, raw.get("runtime") or {}, "runtime"),
    )
    for name in params.variants:
        params.variant(name)
    return params


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False  # block style, as params.yaml is written by hand
    yaml.sort_base_mapping_type_on_output = False  # keys stay in the order given
    return yaml


def read_yaml(path: Path) -> Any:
    """A YAML file as plain dicts and lists, read as YAML 1.2 (as DVC does): 1e-3 is a number."""
    try:
        with open(path, encoding="utf-8") as fh:
            return _yaml().load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; run from the project root") from None
    except YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from None


def yaml_value(text: str) -> Any:
    """One value as `dvc exp run -S key=<text>` reads it (`1e-3` a number, `{a: 1}` a mapping);
    a ValueError naming the text when it is not YAML."""
    try:
        return _yaml().load(text)
    except YAMLError as err:
        raise ValueError(f"{text!r} is not YAML: {str(err).splitlines()[0]}") from None


def write_yaml(path: Path, data: Any) -> None:
    """`data` as block-style YAML that read_yaml reads back unchanged."""
    with open(path, "w", encoding="utf-8") as fh:
        _yaml().dump(data, fh)


def load_params(path: Path | str = paths.PARAMS) -> Params:
    return parse_params(read_yaml(Path(path)))


def load_variant(name: str, params: Path | str = paths.PARAMS) -> VariantConfig:
    """The settings train and evaluate run with, as resolve@<name> wrote them."""
    path = paths.config(name)
    if not path.exists():
        load_params(params).variant(name)  # an unknown name says so, listing the variants
        raise ConfigError(f"{path} not found; run `dvc repro resolve@{name}` first")
    return VariantConfig.from_json(path.read_text())


def load_run(name: str, seed: int, params: Path | str = paths.PARAMS) -> Run:
    """One run, as a stage's command line names it (`<variant> --seed <seed>`)."""
    return Run(load_variant(name, params), seed)
