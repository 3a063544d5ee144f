"""Check `dvc exp run -S` changes before running them: params.yaml with KEY=VALUE applied,
validated as every stage validates it, one sentence if anything is wrong.

DVC applies -S itself before any stage runs and refuses some mistakes in its own words first (a
misspelt key: "Key 'kernal' is not in struct"; a count for train.seeds: "'Value' object is not
iterable"); this names the key and what it should be instead.

    python -m expressions.config.check model.kernel=4 'train.seeds=[0,1,2]'    # make check S=...
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from expressions.config.params import parse_params, read_yaml, set_dotted, yaml_value
from expressions.core import paths
from expressions.core.errors import ConfigError


def setting(text: str) -> tuple[str, Any]:
    """`model.kernel=4` (or DVC's `+model.kernel=4`) -> ("model.kernel", 4), the value read as
    YAML as `dvc exp run -S` reads it, or one sentence why not."""
    key, sep, value = text.partition("=")
    if not sep or not key.lstrip("+"):
        raise ConfigError(f"{text!r} is not KEY=VALUE, e.g. model.kernel=4")
    try:
        return key.lstrip("+"), yaml_value(value)
    except ValueError as err:
        raise ConfigError(f"{key}: {err}") from None


def changed(raw: dict, settings: list[str]) -> dict:
    """params.yaml's mapping with each `KEY=VALUE` (or DVC's `+KEY=VALUE`) set."""
    for text in settings:
        set_dotted(raw, *setting(text))
    return raw


def check(settings: list[str], params: Path = paths.PARAMS) -> str:
    """The verdict on params.yaml with `settings` applied, or a ConfigError's sentence."""
    parse_params(changed(read_yaml(params), settings))
    return f"{params} with {' '.join(settings) or 'no change'}: valid"


def main(argv: list[str]) -> None:
    try:
        print(check(argv))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
