"""The small validator behind params.py: a dataclass field says its type, its bounds or choices
and its default; `build` checks a YAML mapping against the dataclass, raising one sentence that
names the key.

No schema library: these messages ("train.lr is 0.0; allowed range (0.0, 10.0]", "unknown key
model.kernal in params.yaml (did you mean kernel?); known keys: ...") are what users read, and
they stay exactly so.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import MISSING, field, fields
from typing import Any

from expressions.core.errors import ConfigError


def closest(word: str, known: Iterable[str]) -> str:
    """' (did you mean kernel?)' for a near miss such as kernal; '' when nothing is close."""
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def bounded(lo: float, hi: float, default: Any = MISSING, *, open_lo: bool = False) -> Any:
    return field(default=default, metadata={"range": (lo, hi, open_lo)})


def choice(*choices: str, default: Any = MISSING) -> Any:
    return field(default=default, metadata={"choices": choices})


_KINDS = {  # annotation -> (accepts, what the message calls it)
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "float": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
        "a number",
    ),
    "str": (lambda v: isinstance(v, str), "a string"),
    "int | str": (  # a count or 'auto' (runtime.processes)
        lambda v: v == "auto" or (type(v) is int and v >= 1),
        "a whole number of processes (1 or more) or 'auto'",
    ),
    "tuple": (lambda v: isinstance(v, list | tuple), "a list"),
    "dict": (lambda v: isinstance(v, dict), "a mapping"),
}


def coerce(value: Any, annotation: str, key: str) -> Any:
    """Check a YAML value against a field's annotation; ints are accepted where floats are meant."""
    kind = annotation.split("[")[0]
    accepts, called = _KINDS[kind]
    if not accepts(value):
        raise ConfigError(f"{key} must be {called}, not {value!r}")
    if kind == "float":
        return float(value)
    if kind == "tuple":
        inner = "int" if "int" in annotation else "str"
        return tuple(coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    return dict(value) if kind == "dict" else value


def check_bounds(value: Any, meta: Any, key: str) -> None:
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"{key} is {value!r}; allowed: {' | '.join(meta['choices'])}")
    if "range" in meta:
        lo, hi, open_lo = meta["range"]
        if not ((lo < value) if open_lo else (lo <= value)) or value > hi:
            left = "(" if open_lo else "["
            raise ConfigError(f"{key} is {value!r}; allowed range {left}{lo}, {hi}]")


def build(cls: type, raw: Any, where: str, nested: dict[str, type] | None = None) -> Any:
    """Build dataclass `cls` from a params mapping: no unknown or missing keys, right types.

    `nested` names the dataclasses of fields that are sections of their own.
    """
    nested = nested or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping of keys, not {raw!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key {where}.{unknown[0]} in params.yaml{closest(unknown[0], known)}; "
            f"known keys: {', '.join(known)}"
        )
    values = {}
    for name, f in known.items():
        key = f"{where}.{name}"
        if name not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{key} is missing from params.yaml")
            continue
        if f.type in nested:
            values[name] = build(nested[f.type], raw[name], key)
            continue
        values[name] = coerce(raw[name], str(f.type), key)
        check_bounds(values[name], f.metadata, key)
    return cls(**values)
