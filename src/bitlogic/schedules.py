"""Temperature schedules and the helper that applies a temperature to a model."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .registry import Registry

TARGETS = ("parametrizations", "connections", "all")

# kind -> f(start, end, frac) with frac in [0, 1] the share of the schedule done.
TEMPERATURE_SCHEDULES: Registry[Callable[[float, float, float], float]] = Registry(
    "temperature schedule", ValueError
)


@TEMPERATURE_SCHEDULES.register("constant")
def _constant(start: float, end: float, frac: float) -> float:
    return start


@TEMPERATURE_SCHEDULES.register("linear")
def _linear(start: float, end: float, frac: float) -> float:
    return start + (end - start) * frac


@TEMPERATURE_SCHEDULES.register("cosine")
def _cosine(start: float, end: float, frac: float) -> float:
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * frac))


@TEMPERATURE_SCHEDULES.register("exponential")
def _exponential(start: float, end: float, frac: float) -> float:
    return start * (end / start) ** frac


@dataclass(frozen=True)
class TemperatureSchedule:
    """Temperature as a function of the step, from ``start`` to ``end`` over ``steps``.

    ``constant`` stays at ``start``; ``linear`` and ``cosine`` interpolate;
    ``exponential`` interpolates geometrically. After ``steps`` the value
    stays at ``end``. ``kind`` is any name in ``TEMPERATURE_SCHEDULES``.

    Example:
        >>> TemperatureSchedule("linear", 1.0, 0.1, steps=10)(5)
        0.55
    """

    kind: str = "constant"
    start: float = 1.0
    end: float = 1.0
    steps: int = 1

    def __post_init__(self):
        if self.kind not in TEMPERATURE_SCHEDULES:
            raise ValueError(f"kind must be one of {TEMPERATURE_SCHEDULES.names()}, "
                             f"got {self.kind!r}")
        if not (self.start > 0 and self.end > 0):
            raise ValueError(f"start and end must be > 0, got {self.start}, {self.end}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")

    def __call__(self, step: int) -> float:
        frac = min(max(step, 0), self.steps) / self.steps
        return TEMPERATURE_SCHEDULES.get(self.kind)(self.start, self.end, frac)


def set_temperature(model: nn.Module, temperature: float, target: str = "parametrizations") -> int:
    """Call ``update_temperature`` on every parametrization and/or connection in ``model``.

    Args:
        model: any module tree.
        temperature: the new temperature.
        target: ``"parametrizations"``, ``"connections"`` or ``"all"``.

    Returns:
        How many modules were updated.
    """
    from .connections import Connections
    from .parametrizations import LUTParametrization

    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    kinds = {
        "parametrizations": (LUTParametrization,),
        "connections": (Connections,),
        "all": (LUTParametrization, Connections),
    }[target]
    count = 0
    for module in model.modules():
        if isinstance(module, kinds):
            module.update_temperature(temperature)
            count += 1
    return count
