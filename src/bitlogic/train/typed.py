"""Typed trees of dataclasses built from plain dicts (parsed YAML), with clear errors.

:func:`build_dataclass` walks a dataclass's type hints and checks every value:
ints where ints are due (a float field also takes an int), lists of a type,
``X | None``, free-form ``dict`` fields and nested dataclasses. A wrong key or
type raises :class:`ConfigError` that names the dotted key and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from typing import Any


class ConfigError(ValueError):
    """A configuration key or value that is not allowed; the message says what is."""


def leaf_keys(cls: type, prefix: str = "") -> list[str]:
    """Dotted leaf keys of a dataclass tree; free-form dict fields end in ``.*``."""
    keys = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            keys += leaf_keys(hint, prefix + f.name + ".")
        else:
            keys.append(prefix + f.name + (".*" if _origin(hint) is dict else ""))
    return keys


def build_dataclass(cls: type, data: Any, root: type | None = None, prefix: str = "") -> Any:
    """Instantiate ``cls`` from a (nested) dict; missing keys keep their defaults.

    Args:
        cls: a dataclass whose fields carry type hints.
        data: a mapping (``None`` means empty).
        root: the outermost dataclass, whose keys an error message lists.
        prefix: dotted path of ``data`` inside the root, for messages.

    Raises:
        ConfigError: an unknown key or a value of the wrong type.
    """
    root = root or cls
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, "
                          f"got {type(data).__name__}")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names), key=str)
    if unknown:
        raise ConfigError(f"unknown config key {prefix + str(unknown[0])!r}; valid keys: "
                          f"{', '.join(leaf_keys(root))}")
    kwargs = {}
    for name in names:
        if name not in data:
            continue
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = build_dataclass(hint, data[name], root, prefix + name + ".")
        else:
            kwargs[name] = coerce(data[name], hint, prefix + name)
    return cls(**kwargs)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _origin(hint: Any) -> Any:
    return typing.get_origin(hint)


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against a type hint, converting int -> float where a float is due."""
    origin = _origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return coerce(value, option, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: {value!r} matches none of the allowed types "
                          f"({_describe(hint)})")
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key} must be null, got {value!r}")
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list ({_describe(hint)}), got {value!r}")
        return [coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ConfigError(f"{key} must be a mapping with string keys, got {value!r}")
        return copy.deepcopy(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is Any:
        return value
    raise ConfigError(f"{key} must be {_describe(hint)}, got {value!r}")


def _describe(hint: Any) -> str:
    origin = _origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is list:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    if hint is type(None):
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        hint, str(hint))
