"""The one reader of params.yaml (params.py), its sections with their rules (data.py, model.py)
and the validator they share (fields.py). Import from here."""

from expressions.config.data import DataConfig, LabelConfig, LimitsConfig, SplitConfig
from expressions.config.model import ModelSpec, ReleaseConfig, Run, TrainSpec, VariantConfig
from expressions.config.params import (
    Params,
    load_params,
    load_run,
    load_variant,
    parse_params,
    read_yaml,
    set_dotted,
    write_yaml,
    yaml_value,
)

__all__ = [
    "DataConfig",
    "LabelConfig",
    "LimitsConfig",
    "ModelSpec",
    "Params",
    "ReleaseConfig",
    "Run",
    "SplitConfig",
    "TrainSpec",
    "VariantConfig",
    "load_params",
    "load_run",
    "load_variant",
    "parse_params",
    "read_yaml",
    "set_dotted",
    "write_yaml",
    "yaml_value",
]
