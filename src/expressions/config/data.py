"""The data-side sections of params.yaml: data, labels, split. Each knob's type, bounds and
default sit on its field; the checks across keys sit on the section they concern (`check`).

The limits' defaults are data/limits.py's, which the code enforcing them uses too: each is
written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from expressions.config.fields import bounded, choice
from expressions.core.errors import ConfigError
from expressions.data.layouts import LAYOUTS
from expressions.data.limits import MAX_MEGAPIXELS, ExtractLimits

SOURCES = ("synthetic", "kaggle", "local")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # dataset and variant names
_EXTRACT = ExtractLimits()


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    scale: float = bounded(0.0, 1.0, open_lo=True)  # fraction of each real dataset's counts
    seed: int = bounded(0, 2**31 - 1)


@dataclass(frozen=True, kw_only=True)
class LimitsConfig:
    """Ceilings on what one input may cost, far above the real datasets (all under 1 GiB, images
    of at most a few megapixels), so that a hostile or mistaken input is refused, not absorbed."""

    extracted_gib: float = bounded(0.0, 1024.0, _EXTRACT.extracted_gib, open_lo=True)
    ratio: float = bounded(1.0, 1_000_000.0, _EXTRACT.ratio)  # uncompressed / compressed
    megapixels: float = bounded(0.0, 1000.0, MAX_MEGAPIXELS, open_lo=True)  # from its header


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

    def check(self) -> None:
        """Every dataset has a known layout and a place to come from."""
        if not self.datasets:
            raise ConfigError("data.datasets is empty; name at least one dataset")
        for section, what in (("kaggle", "a Kaggle slug"), ("local", "a path")):
            for name, value in getattr(self, section).items():
                if value is not None and not isinstance(value, str):
                    raise ConfigError(
                        f"data.{section}.{name} must be {what} or null, not {value!r}"
                    )
        for name, layout in self.datasets.items():
            self._check_dataset(name, layout)

    def _check_dataset(self, name: str, layout: str) -> None:
        key = f"data.datasets.{name}"
        if not NAME.match(str(name)):
            raise ConfigError(f"{key}: a dataset name must be lower-case letters, digits and _")
        if layout not in LAYOUTS:
            raise ConfigError(f"{key} is {layout!r}; allowed layouts: {' | '.join(LAYOUTS)}")
        source, where = self.raw_source(name)
        if source == "local" and not where:
            raise ConfigError(f"data.source is local but data.local.{name} gives no path for it")
        if source == "kaggle" and not where:
            raise ConfigError(
                f"data.source is kaggle but data.kaggle.{name} names no slug; set data.local.{name}"
            )
        if layout == "folder" and source != "local":
            raise ConfigError(f"{key} is a folder dataset: set data.local.{name} to its path")


@dataclass(frozen=True, kw_only=True)
class LabelConfig:
    classes: tuple[str, ...] = ()
    map: dict[str, dict[str, str]] = field(default_factory=dict)

    def check(self, datasets: dict[str, str]) -> None:
        """Distinct classes, a map per known dataset onto them, and every class reached."""
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ConfigError(
                f"labels.classes needs two or more distinct names, got {list(self.classes)}"
            )
        for dataset, mapping in self.map.items():
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
                if target not in self.classes:
                    raise ConfigError(
                        f"labels.map.{dataset}.{original} maps to {target!r}, which is not in "
                        f"labels.classes {list(self.classes)}"
                    )
        reached = {t for m in self.map.values() for t in (m or {}).values()}
        missing = [c for c in self.classes if c not in reached]
        if missing:
            raise ConfigError(
                f"class {missing[0]!r} in labels.classes gets no images: no labels.map entry "
                "maps to it"
            )


@dataclass(frozen=True, kw_only=True)
class SplitConfig:
    seed: int = bounded(0, 2**31 - 1)
    test: float = bounded(0.0, 0.9, open_lo=True)
    val: float = bounded(0.0, 0.9)
    group: dict[str, str] = field(default_factory=dict)  # dataset -> regex naming a subject/clip
    near_duplicates: int = bounded(-1, 32)  # max perceptual-hash distance in bits; -1 = off

    def check(self, datasets: dict[str, str]) -> None:
        """Enough data left to train on; each group pattern a regex for a known dataset."""
        train = (1 - self.test) * (1 - self.val)  # val is carved from what test leaves
        if train < 0.1:
            raise ConfigError(
                f"split.test {self.test} and split.val {self.val} leave {train:.0%} of the data "
                "for training; lower them so that at least 10% remains"
            )
        for dataset, pattern in self.group.items():
            key = f"split.group.{dataset}"
            if dataset not in datasets:
                raise ConfigError(f"{key} names a dataset that data.datasets does not have")
            if not isinstance(pattern, str):
                raise ConfigError(f"{key} must be a regular expression string, not {pattern!r}")
            try:
                re.compile(str(pattern))
            except re.error as err:
                raise ConfigError(f"{key} is not a valid regular expression: {err}") from None
