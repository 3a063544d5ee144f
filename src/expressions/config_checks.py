"""The checks of params.yaml across keys: a depth the image size allows, a layout and a source
for every dataset, a label map that reaches every class, splits that leave training data.

config.py builds each section (types, bounds, unknown keys: validation.py) and then calls these;
each raises one ConfigError sentence naming the key.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from expressions.data.layouts import LAYOUTS
from expressions.errors import ConfigError

if TYPE_CHECKING:
    from expressions.config import DataConfig, LabelConfig, ModelSpec, SplitConfig, TrainSpec

NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # dataset and variant names


BUILT_IN_ARCHS = ("study", "efficientnet_lite0")  # the rest come from torchvision


def check_model(spec: ModelSpec, image_size: int, where: str) -> None:
    if spec.arch != "study":
        check_backbone(spec, where)
        return
    if spec.pretrained != "none" or spec.input_size:
        key = "pretrained" if spec.pretrained != "none" else "input_size"
        raise ConfigError(
            f"{where}.{key} applies to ImageNet backbones, and {where}.arch is study; "
            f"leave it at {'none' if key == 'pretrained' else 0} or pick a model.arch"
        )
    if image_size // 2**spec.depth < 1:
        raise ConfigError(
            f"{where}.depth={spec.depth} pools a {image_size} px image down to nothing; "
            f"allowed range [1, {int(math.log2(image_size))}] for data.image_size {image_size}"
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


def check_backbone(spec: ModelSpec, where: str) -> None:
    """An arch that exists (torchvision is imported only to name one it ships)."""
    if spec.arch not in BUILT_IN_ARCHS:
        import torchvision  # only for an arch beyond the built-in ones: it takes seconds

        archs = torchvision.models.list_models(module=torchvision.models)  # classification
        if spec.arch not in archs:
            raise ConfigError(
                f"{where}.arch is {spec.arch!r}; allowed: {' | '.join(BUILT_IN_ARCHS)} | "
                f"a torchvision classification model ({', '.join(archs)})"
            )
    if not spec.pretrained:
        raise ConfigError(f"{where}.pretrained is empty; allowed: none | imagenet | a file path")
    if 0 < spec.input_size < 32:
        raise ConfigError(
            f"{where}.input_size is {spec.input_size}; an ImageNet network needs 32 px or more "
            "(0 = data.image_size)"
        )


def check_backbone_lr(model: ModelSpec, train: TrainSpec, where: str) -> None:
    if model.arch == "study" and train.backbone_lr != 1.0:
        raise ConfigError(
            f"{where}.train.backbone_lr is {train.backbone_lr}, but the study CNN has no "
            f"pretrained backbone ({where}.model.arch is study); leave it at 1.0"
        )


def check_data(data: DataConfig) -> None:
    if not data.datasets:
        raise ConfigError("data.datasets is empty; name at least one dataset")
    for section, what in (("kaggle", "a Kaggle slug"), ("local", "a path")):
        for name, value in getattr(data, section).items():
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"data.{section}.{name} must be {what} or null, not {value!r}")
    for name, layout in data.datasets.items():
        key = f"data.datasets.{name}"
        if not NAME.match(str(name)):
            raise ConfigError(f"{key}: a dataset name must be lower-case letters, digits and _")
        if layout not in LAYOUTS:
            raise ConfigError(f"{key} is {layout!r}; allowed layouts: {' | '.join(LAYOUTS)}")
        source, where = data.raw_source(name)
        if source == "local" and not where:
            raise ConfigError(f"data.source is local but data.local.{name} gives no path for it")
        if source == "kaggle" and not where:
            raise ConfigError(
                f"data.source is kaggle but data.kaggle.{name} names no slug; set data.local.{name}"
            )
        if layout == "folder" and source != "local":
            raise ConfigError(f"{key} is a folder dataset: set data.local.{name} to its path")


def check_labels(labels: LabelConfig, datasets: dict[str, str]) -> None:
    if len(labels.classes) < 2 or len(set(labels.classes)) != len(labels.classes):
        raise ConfigError(
            f"labels.classes needs two or more distinct names, got {list(labels.classes)}"
        )
    for dataset, mapping in labels.map.items():
        if mapping is not None and not isinstance(mapping, dict):
            raise ConfigError(
                f"labels.map.{dataset} must be a mapping of original label to class "
                f"(e.g. Happiness: Happy), not {mapping!r}"
            )
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


def check_split(split: SplitConfig, datasets: dict[str, str]) -> None:
    train = (1 - split.test) * (1 - split.val)  # val is carved from what test leaves
    if train < 0.1:
        raise ConfigError(
            f"split.test {split.test} and split.val {split.val} leave {train:.0%} of the data "
            "for training; lower them so that at least 10% remains"
        )
    for dataset, pattern in split.group.items():
        key = f"split.group.{dataset}"
        if dataset not in datasets:
            raise ConfigError(f"{key} names a dataset that data.datasets does not have")
        if not isinstance(pattern, str):
            raise ConfigError(f"{key} must be a regular expression string, not {pattern!r}")
        try:
            re.compile(str(pattern))
        except re.error as err:
            raise ConfigError(f"{key} is not a valid regular expression: {err}") from None


def check_variants(variants: Any) -> dict[str, dict[str, Any]]:
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
