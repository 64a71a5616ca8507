"""The input views a run is evaluated and exported on (``model.flip_ensemble``).

With views, a run's model is scored as an ensemble of itself over
permutations of its input features: every view's GroupSum counts are added
(:func:`view_scores`), exactly as the exported netlist does
(:func:`bitlogic.netlist.views.view_ensemble`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from bitlogic.layers.groupsum import GroupSum
from bitlogic.netlist.views import mirror_permutation

from .typed import ConfigError


def image_shape(model: nn.Module) -> tuple[int, int, int]:
    """The ``(C, H, W)`` a conv model's leading ``nn.Unflatten`` gives its features.

    Raises:
        ConfigError: the model does not start with one (not a conv model).
    """
    first = model[0] if isinstance(model, nn.Sequential) and len(model) else None
    if not isinstance(first, nn.Unflatten) or len(first.unflattened_size) != 3:
        raise ConfigError("model.flip_ensemble needs a conv model, which starts by reshaping "
                          "its features into (C, H, W) images")
    return tuple(int(d) for d in first.unflattened_size)


def run_views(config, model: nn.Module) -> list[torch.Tensor] | None:
    """The feature permutations ``config`` evaluates ``model`` on, or ``None`` (no ensemble).

    ``model.flip_ensemble``: the identity and the left-right mirror.
    """
    if not config.model.flip_ensemble:
        return None
    shape = image_shape(model)
    return [torch.arange(shape[0] * shape[1] * shape[2]),
            torch.from_numpy(mirror_permutation(shape))]


def view_scores(body: Callable[[torch.Tensor], torch.Tensor], head: GroupSum, x: torch.Tensor,
                views: Sequence[torch.Tensor]) -> torch.Tensor:
    """GroupSum scores of the ensemble of ``body`` over ``views`` of ``x``.

    Args:
        body: the model without its GroupSum: ``(batch, F)`` -> ``(batch, k * G)``.
        head: the GroupSum (``k`` classes).
        x: features ``(batch, F)``.
        views: int64 permutations ``(F,)``; view ``v`` of ``x`` is ``x[:, v]``.

    Returns:
        ``(batch, k)``: the head over every view's outputs, class ``c``'s group
        taking each view's group ``c`` in turn (the netlist's order), so the
        counts add exactly.
    """
    outs = torch.stack([body(x[:, v.to(x.device)]) for v in views], dim=1)  # (B, V, k * G)
    batch, copies = outs.shape[:2]
    merged = outs.view(batch, copies, head.k, -1).transpose(1, 2).reshape(batch, -1)
    return head(merged)


def split_head(model: nn.Module) -> tuple[nn.Sequential, GroupSum]:
    """``model`` as its body and its GroupSum head.

    Raises:
        ValueError: ``model`` is not an ``nn.Sequential`` ending in a ``GroupSum``.
    """
    if not isinstance(model, nn.Sequential) or not len(model) or not isinstance(model[-1],
                                                                                GroupSum):
        raise ValueError(f"views need an nn.Sequential that ends in a GroupSum, got "
                         f"{type(model).__name__}")
    return model[:-1], model[-1]
