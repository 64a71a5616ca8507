"""The preset registry: every ``presets/*.yaml`` file beside this module is one preset.

A preset is data, not code: a YAML tree with the sections of
:class:`~bitlogic.train.config.RunConfig`. Its file name (without ``.yaml``)
is its name. A path to any YAML file with the same tree works as a preset too.

Example:
    >>> "digits-tiny" in list_presets()
    True
    >>> load_preset("digits-tiny", ["train.epochs=2"]).train.epochs
    2
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError, RunConfig, apply_overrides

DEFAULT_PRESET = "digits-tiny"
_SUFFIX = ".yaml"


def _preset_files() -> dict[str, Any]:
    folder = resources.files("bitlogic.train").joinpath("presets")
    return {
        entry.name[: -len(_SUFFIX)]: entry
        for entry in folder.iterdir()
        if entry.name.endswith(_SUFFIX)
    }


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted."""
    return sorted(_preset_files())


def preset_dict(name: str) -> dict[str, Any]:
    """The raw YAML tree of a preset (a built-in name or a path to a ``.yaml`` file).

    Raises:
        ConfigError: an unknown name (the message lists the valid ones) or a
            file that is not a YAML mapping.
    """
    files = _preset_files()
    if name in files:
        text = files[name].read_text(encoding="utf-8")
        source = f"preset {name!r}"
    elif name.endswith((_SUFFIX, ".yml")) and Path(name).is_file():
        text = Path(name).read_text(encoding="utf-8")
        source = f"preset file {name}"
    else:
        raise ConfigError(
            f"unknown preset {name!r}; valid presets: {', '.join(list_presets())} "
            f"(or a path to a .yaml file)"
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a YAML mapping, got {type(data).__name__}")
    return data


def load_preset(name: str = DEFAULT_PRESET, overrides: list[str] | tuple[str, ...] = ()
                ) -> RunConfig:
    """Resolve a preset and ``key=value`` overrides into a validated config.

    Args:
        name: a built-in preset name or a path to a preset YAML file.
        overrides: dotted ``key=value`` strings, applied in order.

    Raises:
        ConfigError: an unknown preset, key or a bad value.
    """
    return RunConfig.from_dict(apply_overrides(preset_dict(name), list(overrides)))
