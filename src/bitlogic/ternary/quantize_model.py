"""Swap every ``nn.Linear`` of a model for a ternary layer, in place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from torch import nn

from bitlogic.registry import Registry

from .bitlinear import BitLinear
from .multi_ternary import MultiTernaryLinear

# Ternary layer classes with a ``from_linear`` converter, by the name quantize_model takes.
LAYERS: Registry[type[nn.Module]] = Registry("ternary layer", ValueError)
LAYERS.register("bitlinear", BitLinear)
LAYERS.register("multi_ternary", MultiTernaryLinear)


@dataclass(frozen=True)
class QuantizationReport:
    """What :func:`quantize_model` changed.

    Attributes:
        swapped: Qualified names of the replaced ``nn.Linear`` modules.
        skipped: Qualified names of linear layers left in float: those in
            ``exclude`` and subclasses of ``nn.Linear`` (e.g. the output
            projection of ``nn.MultiheadAttention``, whose owner reads its
            weight directly).
        ternary_weights: Number of weights that are now ternary-quantized.
        float_parameters: Number of parameters still used in float (biases,
            skipped layers, other modules).
    """

    swapped: tuple[str, ...]
    skipped: tuple[str, ...]
    ternary_weights: int
    float_parameters: int

    def __str__(self) -> str:
        total = self.ternary_weights + self.float_parameters
        share = self.ternary_weights / total if total else 0.0
        lines = [
            f"swapped {len(self.swapped)} linear layer(s), skipped {len(self.skipped)}",
            f"ternary weights: {self.ternary_weights} of {total} parameters ({share:.1%})",
        ]
        lines += [f"  ternary: {name}" for name in self.swapped]
        lines += [f"  float:   {name}" for name in self.skipped]
        return "\n".join(lines)


def quantize_model(
    model: nn.Module,
    layer: str = "bitlinear",
    exclude: Iterable[str] = (),
    **options,
) -> QuantizationReport:
    """Replace each ``nn.Linear`` in ``model`` (recursively, in place) by a ternary layer.

    Weights and biases are copied through ``from_linear``, so the model keeps
    training from where it was. A linear module shared by several parents is
    replaced by one shared ternary module.

    Args:
        model: Model to modify; must not itself be an ``nn.Linear``.
        layer: ``"bitlinear"`` (:class:`BitLinear`) or ``"multi_ternary"``
            (:class:`MultiTernaryLinear`); any name in ``LAYERS``.
        exclude: Qualified module names (as in ``model.named_modules()``) to
            keep in float, e.g. a final classifier.
        **options: Passed to ``from_linear``: ``rms_norm``, ``activation_bits``,
            ``per_channel`` for BitLinear; ``k``, ``refit`` for MultiTernaryLinear.

    Returns:
        A :class:`QuantizationReport`.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or an option is unknown.
        ValueError: ``layer`` is not allowed, ``model`` is an ``nn.Linear``, or
            a name in ``exclude`` is not a linear layer of ``model``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS.names()}, got {layer!r}")
    if isinstance(model, nn.Linear):
        raise ValueError(
            "model is itself an nn.Linear and cannot be swapped in place; "
            "use BitLinear.from_linear(model) instead"
        )
    if isinstance(exclude, str):
        raise TypeError(f"exclude must be an iterable of module names, not the string {exclude!r}")
    excluded = set(exclude)
    linear_names = {
        n for n, m in model.named_modules(remove_duplicate=False) if isinstance(m, nn.Linear)
    }
    unknown = excluded - linear_names
    if unknown:
        raise ValueError(
            f"exclude names {sorted(unknown)} are not linear layers of the model; "
            f"linear layers: {sorted(linear_names)}"
        )
    factory = LAYERS.get(layer).from_linear
    replaced: dict[int, nn.Module] = {}
    swapped: list[str] = []
    skipped: list[str] = []

    def visit(parent: nn.Module, prefix: str) -> None:
        # Depth first in definition order, so the report lists layers as printed.
        for child_name, child in list(parent.named_children()):
            name = f"{prefix}{child_name}"
            if not isinstance(child, nn.Linear):
                visit(child, f"{name}.")
            elif name in excluded or type(child) is not nn.Linear:
                skipped.append(name)
            else:
                if id(child) not in replaced:
                    replaced[id(child)] = factory(child, **options)
                setattr(parent, child_name, replaced[id(child)])
                swapped.append(name)

    visit(model, "")
    ternary = sum(m.weight.numel() for m in replaced.values())
    total = sum(p.numel() for p in model.parameters())
    return QuantizationReport(tuple(swapped), tuple(skipped), ternary, total - ternary)
