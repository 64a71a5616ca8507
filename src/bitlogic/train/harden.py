"""Progressive hardening: logic layers freeze at their discrete function, bottom up.

A soft-trained net leans on graded LUT values that the frozen netlist rounds
away (the *discrete gap*). From the epoch ``train.harden_epochs[i]`` on, logic
layer ``i`` trains with ``forward_sampling="hard"`` (its forward value is its
discrete table, and learnable connections take their argmax) and its
parameters are frozen. Hardened from the input up, every hardened layer
outputs exactly the netlist's bits, so the layers above learn on what the
deployed circuit computes. Frozen rather than trained straight-through: with
the learning rates these nets train at, straight-through updates flip table
entries every step, and in a CIFAR-10 probe two stacked straight-through conv
blocks sent validation accuracy from 46% to 17% in two epochs. Like the
learning rate, the state is a pure function of the epoch, so resume needs no
state for it.

Freezing swaps a layer's graded outputs for bits at once, and the layers above
lose accuracy they must win back. ``train.harden_ramp_epochs`` softens that
step: over the epochs before its freeze, a layer's temperature falls
geometrically to ``train.harden_ramp_factor`` times the schedule's, so its
tables saturate towards their discrete values while it still trains and the
layers above adapt step by step (:func:`ramp_temperatures`).
"""

from __future__ import annotations

from torch import nn

from bitlogic.connections import Connections
from bitlogic.functional.sampling import Sampling
from bitlogic.parametrizations import LUTParametrization

from .config import ConfigError


def logic_layers(model: nn.Module) -> list[nn.Module]:
    """The top-level children of ``model`` that hold LUT parametrizations, in order."""
    return [child for child in model.children()
            if any(isinstance(m, LUTParametrization) for m in child.modules())]


def check_harden_epochs(model: nn.Module, harden_epochs: list[int | None], epochs: int) -> None:
    """Raise ``ConfigError`` unless ``harden_epochs`` fits ``model`` and an ``epochs``-long run.

    An empty list turns hardening off. Otherwise it has one entry per logic
    layer, each a 1-based epoch or ``None`` (never); every parametrization of a
    hardened layer must train ``"hard"`` as its discrete table
    (``HARD_IS_DISCRETE``), and no epoch of the run may freeze every layer.
    """
    if not harden_epochs:
        return
    layers = logic_layers(model)
    if len(harden_epochs) != len(layers):
        names = [type(layer).__name__ for layer in layers]
        raise ConfigError(f"train.harden_epochs needs one entry (a 1-based epoch or null) per "
                          f"logic layer, {len(layers)} here ({', '.join(names)}); "
                          f"got {len(harden_epochs)}: {harden_epochs}")
    for i, (layer, epoch) in enumerate(zip(layers, harden_epochs, strict=True)):
        if epoch is None:
            continue
        if epoch < 1:
            raise ConfigError(f"train.harden_epochs[{i}] must be a 1-based epoch >= 1 or null, "
                              f"got {epoch}")
        for p in layer.modules():
            if isinstance(p, LUTParametrization) and not (
                    p.HARD_IS_DISCRETE and Sampling.HARD in p.SAMPLING_MODES):
                raise ConfigError(f"train.harden_epochs[{i}]: {type(p).__name__} in logic layer "
                                  f"{i} has no deterministic forward_sampling='hard' that "
                                  f"equals its discrete table; give null for that layer")
    if None not in harden_epochs and max(harden_epochs) <= epochs:
        raise ConfigError(f"train.harden_epochs={harden_epochs} freezes every logic layer from "
                          f"epoch {max(harden_epochs)} of {epochs} on, leaving nothing to train; "
                          f"give null (never) for at least the last layer")


def _sampled_modules(layer: nn.Module) -> list[nn.Module]:
    return [m for m in layer.modules() if isinstance(m, LUTParametrization) or (
        isinstance(m, Connections) and hasattr(m, "forward_sampling"))]


def harden_layer(layer: nn.Module) -> None:
    """Make ``layer`` compute its discrete function in training mode and freeze it."""
    for m in _sampled_modules(layer):
        if not hasattr(m, "_sampling_before_hardening"):
            m._sampling_before_hardening = m.forward_sampling
        m.forward_sampling = Sampling.HARD
    for p in layer.parameters():
        p.requires_grad_(False)
        p.grad = None


def is_hardened(layer: nn.Module) -> bool:
    """True when ``layer`` is as :func:`harden_layer` leaves it: hard, nothing trainable."""
    return (all(m.forward_sampling == Sampling.HARD for m in _sampled_modules(layer))
            and not any(p.requires_grad for p in layer.parameters()))


def soften_layer(layer: nn.Module) -> None:
    """Undo :func:`harden_layer`: the sampling modes it replaced, trainable parameters."""
    for m in _sampled_modules(layer):
        if hasattr(m, "_sampling_before_hardening"):
            m.forward_sampling = m._sampling_before_hardening
    for p in layer.parameters():
        p.requires_grad_(True)


def harden_for_epoch(model: nn.Module, harden_epochs: list[int | None], epoch: int) -> int:
    """Put every logic layer in its state of (0-based) ``epoch``: hard and frozen when due.

    Layers not yet due are (made) trainable with their own sampling, so the
    end of a run can restore the state of its best epoch.

    Returns:
        How many logic layers are hard in this epoch.
    """
    hard = 0
    for layer, start in zip(logic_layers(model), harden_epochs, strict=False):
        if start is not None and epoch + 1 >= start:
            harden_layer(layer)
            hard += 1
        else:
            soften_layer(layer)
    return hard


def ramp_factor(start: int | None, progress: float, ramp_epochs: int, final: float) -> float:
    """Temperature factor of a layer hardened from (1-based) epoch ``start``.

    Args:
        start: the layer's ``harden_epochs`` entry; ``None``: never hardened.
        progress: epochs elapsed, fractional (``epoch + step / steps_per_epoch``
            with a 0-based ``epoch``).
        ramp_epochs: length of the ramp before ``start``; 0: no ramp.
        final: the factor at ``start``, in ``(0, 1]``.

    Returns:
        1 before the ramp, ``final ** f`` at fraction ``f`` of it, ``final``
        from ``start`` on.

    Example:
        >>> ramp_factor(5, 3.0, 2, 0.01), ramp_factor(5, 1.5, 2, 0.01)
        (0.1, 1.0)
    """
    if start is None or ramp_epochs <= 0:
        return 1.0
    fraction = (progress - (start - 1 - ramp_epochs)) / ramp_epochs
    return final ** min(max(fraction, 0.0), 1.0)


def ramp_temperatures(model: nn.Module, harden_epochs: list[int | None], ramp_epochs: int,
                      final: float, progress: float, temperature: float) -> int:
    """Set each logic layer's parametrizations to ``temperature`` times its :func:`ramp_factor`.

    Returns:
        How many logic layers run below ``temperature``.
    """
    ramping = 0
    for layer, start in zip(logic_layers(model), harden_epochs, strict=False):
        factor = ramp_factor(start, progress, ramp_epochs, final)
        if factor == 1.0:
            continue
        ramping += 1
        for m in layer.modules():
            if isinstance(m, LUTParametrization):
                m.update_temperature(temperature * factor)
    return ramping
