"""One registry for parametrizations: ``setup_parametrization`` reads it."""

from __future__ import annotations

from typing import Any

from bitlogic.registry import Registry

from .base import LUTParametrization

# KeyError for unknown names: the documented contract of setup_parametrization.
PARAMETRIZATIONS: Registry[type[LUTParametrization]] = Registry("parametrization", KeyError)


def register_parametrization(name: str):
    """Class decorator adding a parametrization under ``name`` (lowercase).

    Example:
        >>> @register_parametrization("my_lut")  # doctest: +SKIP
        ... class MyLUT(LUTParametrization): ...

    Raises:
        ValueError: if ``name`` is already registered.
    """
    return PARAMETRIZATIONS.register(name)


def setup_parametrization(name: str, lut_rank: int, **kwargs: Any) -> LUTParametrization:
    """Build a parametrization by name; extra kwargs go to its constructor.

    Example:
        >>> p = setup_parametrization("light", lut_rank=4, forward_sampling="hard")

    Raises:
        KeyError: for unknown names (the message lists the valid ones).
    """
    return PARAMETRIZATIONS.get(name)(lut_rank=lut_rank, **kwargs)


def list_parametrizations() -> list[str]:
    """Names accepted by :func:`setup_parametrization`, sorted."""
    return PARAMETRIZATIONS.names()
