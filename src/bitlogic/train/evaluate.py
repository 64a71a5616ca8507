"""Accuracy of a model in its two modes, and of a frozen netlist on the packed engine.

*Soft* accuracy runs the training-mode forward (the continuous relaxation);
*discrete* accuracy runs the eval-mode forward, which computes exactly what the
exported netlist computes. Their difference is the discretization gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .views import split_head, view_scores

if TYPE_CHECKING:
    from .packed_front import PackedFront


@dataclass(frozen=True)
class EvalResult:
    """Mean cross-entropy loss, accuracy and sample count of one pass.

    ``class_accuracy``: the accuracy within each true class (its recall), in
    class order; ``None`` for a class with no sample.
    """

    loss: float
    accuracy: float
    n: int
    class_accuracy: tuple[float | None, ...] = ()


def class_accuracy(pred: np.ndarray, y: np.ndarray, num_classes: int
                   ) -> tuple[float | None, ...]:
    """The accuracy of predictions ``pred`` ``(n,)`` within each class of labels ``y`` ``(n,)``.

    ``None`` for a class in ``[0, num_classes)`` that ``y`` never holds.
    """
    pred, y = np.asarray(pred).reshape(-1), np.asarray(y).reshape(-1)
    totals = np.bincount(y, minlength=num_classes)
    hits = np.bincount(y[pred == y], minlength=num_classes)
    return tuple(float(h / t) if t else None for h, t in zip(hits, totals, strict=True))


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    soft: bool,
    batch_size: int = 2048,
    device: torch.device | None = None,
    front: PackedFront | None = None,
    views: Sequence[torch.Tensor] | None = None,
) -> EvalResult:
    """Loss and accuracy of ``model`` on ``(x, y)``.

    The training-mode pass runs under a forked RNG, so a stochastic forward
    (gumbel sampling) never shifts the training random stream; evaluating
    therefore cannot change what training does next. The model's mode is
    restored afterwards.

    Args:
        model: the network (not wrapped in DDP).
        x: float inputs ``(n, features)``.
        y: int64 labels ``(n,)``.
        soft: True for the train-mode (soft) forward, False for eval mode (discrete).
        batch_size: samples per forward pass.
        device: where to run; defaults to the model's first parameter's device.
        front: ``model``'s hardened front on the packed engine
            (:mod:`bitlogic.train.packed_front`), or ``None``.
        views: feature permutations to score ``model`` as an ensemble over
            (:func:`bitlogic.train.views.view_scores`; ``model`` must be an
            ``nn.Sequential`` ending in a ``GroupSum``), or ``None``.

    Returns:
        ``EvalResult`` with NaN loss and accuracy when ``x`` is empty.
    """
    n = int(y.shape[0])
    if n == 0:
        return EvalResult(float("nan"), float("nan"), 0)
    if device is None:
        device = next(model.parameters()).device
    forward = _forward(model, front, views)
    was_training = model.training
    model.train(soft)
    devices = [device] if device.type == "cuda" else []
    loss_sum = 0.0
    preds = []
    try:
        with torch.random.fork_rng(devices=devices):
            for start in range(0, n, batch_size):
                xb = x[start:start + batch_size].to(device)
                yb = y[start:start + batch_size].to(device)
                scores = forward(xb)
                loss_sum += float(F.cross_entropy(scores, yb, reduction="sum"))
                preds.append(scores.argmax(dim=1).cpu())
    finally:
        model.train(was_training)
    pred, labels = torch.cat(preds).numpy(), y.cpu().numpy()
    return EvalResult(loss_sum / n, float((pred == labels).sum()) / n, n,
                      class_accuracy(pred, labels, int(scores.shape[1])))


def _forward(model: nn.Module, front: PackedFront | None,
             views: Sequence[torch.Tensor] | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Features -> scores: the model, its packed front, or an ensemble over ``views``."""
    if views is None:
        return front.forward_model if front is not None else model
    body, head = split_head(model)
    if front is not None:
        rest = front.rest[:-1]  # the front never holds the GroupSum

        def body(x: torch.Tensor) -> torch.Tensor:
            return rest(front(x))

    return lambda x: view_scores(body, head, x, views)


@dataclass(frozen=True)
class PackedResult:
    """Accuracy and throughput of the packed CPU engine on one split."""

    accuracy: float
    n: int
    seconds: float
    samples_per_s: float
    backend: str
    class_accuracy: tuple[float | None, ...] = ()  # as in EvalResult


def evaluate_packed(netlist: object, x: torch.Tensor, y: torch.Tensor,
                    num_threads: int | None = None, repeat: int = 1,
                    simplify: bool = True) -> PackedResult:
    """Run :class:`bitlogic.backends.PackedLogicNet` over ``x`` and score it against ``y``.

    The engine is built (and its kernel loaded) before timing starts, so
    ``samples_per_s`` measures inference alone.

    Args:
        netlist: a ``LogicNetlist`` (or a model to freeze).
        x: features ``(n, netlist.input_width)``.
        y: labels ``(n,)``.
        num_threads: engine threads (``None``: all cores).
        repeat: time one call on ``x`` tiled this many times, for a stable
            throughput on small test sets; accuracy is always over ``x`` once.
        simplify: run the engine on ``netlist.simplify()`` (same predictions).

    Raises:
        ImportError: ``bitlogic.backends`` is unavailable.
        ValueError: ``repeat`` is not a positive int.
    """
    from bitlogic.backends import PackedLogicNet

    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive int, got {repeat!r}")
    engine = PackedLogicNet(netlist, num_threads=num_threads, simplify=simplify)
    features = x.numpy()
    pred = engine.predict(features)
    n = int(y.shape[0])
    accuracy = float((torch.as_tensor(pred) == y).double().mean()) if n else float("nan")
    per_class = class_accuracy(pred, y.numpy(), engine.netlist.num_classes)
    timed = np.tile(features, (repeat, 1)) if repeat > 1 else features
    start = time.perf_counter()
    engine.predict(timed)
    seconds = time.perf_counter() - start
    samples = n * repeat
    return PackedResult(accuracy, n, seconds, samples / seconds if seconds > 0 else float("inf"),
                        engine.backend, per_class)
