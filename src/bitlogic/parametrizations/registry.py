"""One registry for parametrizations: ``setup_parametrization`` reads it."""

from __future__ import annotations

from typing import Any

from .base import LUTParametrization

_REGISTRY: dict[str, type[LUTParametrization]] = {}


def register_parametrization(name: str):
    """Class decorator adding a parametrization under ``name`` (lowercase).

    Raises:
        ValueError: if ``name`` is already registered.
    """

    def add(cls: type[LUTParametrization]) -> type[LUTParametrization]:
        if name in _REGISTRY:
            raise ValueError(f"parametrization {name!r} is already registered")
        _REGISTRY[name] = cls
        return cls

    return add


def setup_parametrization(name: str, lut_rank: int, **kwargs: Any) -> LUTParametrization:
    """Build a parametrization by name; extra kwargs go to its constructor.

    Example:
        >>> p = setup_parametrization("light", lut_rank=4, forward_sampling="hard")

    Raises:
        KeyError: for unknown names (the message lists the valid ones).
    """
    if name not in _REGISTRY:
        raise KeyError(
            f"unknown parametrization {name!r}; valid names: {list_parametrizations()}"
        )
    return _REGISTRY[name](lut_rank=lut_rank, **kwargs)


def list_parametrizations() -> list[str]:
    """Names accepted by :func:`setup_parametrization`, sorted."""
    return sorted(_REGISTRY)
