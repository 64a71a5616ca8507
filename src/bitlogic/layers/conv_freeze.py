"""Freeze steps: one module at a time into full netlist levels.

The freezer walks a model keeping ``where``, an int64 array with the shape
of one sample's current activation (``(N,)`` for vectors, ``(C, H, W)`` for
images) whose entries are positions in the current netlist level (the input
bits before the first layer). Each step is a pure function
``(module, where) -> (list[NetlistLayer], new_where)``; every layer it
emits reads only the level emitted just before it, so the steps compose in
sequence. :data:`FREEZE_STEPS` maps a module type to its step.

* Flat layers (``LogicDense`` and anything else with a step in
  :mod:`bitlogic.layers.freeze`): the freezer maps their indices through
  ``where.ravel()`` (:func:`remap_flat`); then ``where = arange(width)``.
* ``LogicConv2d``: one layer per tree level, LUTs ordered C-major
  ``(node, h', w')``, so the last level's LUT ``o * H'W' + h' * W' + w'`` is
  output channel ``o`` at ``(h', w')``. A leaf that reads a padded position is
  a constant 0; it is folded into that LUT's truth table (see
  :func:`restrict_to_zero`) and its index points at a valid position, so the
  IR needs no constant inputs. Every LUT has its own table in the netlist, so
  a border LUT whose shared table is specialised this way simply differs
  from its neighbours.
* ``OrPool2d``: OR tables over the in-bounds window positions (padded ones
  are 0 and dropped); the rank is the largest such count (smaller windows
  fold their missing slots to 0), and windows of more than 6 positions
  become an OR tree of several levels.
* ``nn.Flatten``: ``where.reshape(-1)`` (C-major, as ``torch.flatten(x, 1)``);
  ``nn.Identity``: nothing.
* Encoders: :func:`freeze_encoder` gives the netlist's input encoding and the
  first ``where``; thermometer bit ``c * T + t`` of pixel ``(h, w)`` is input
  ``(c * H * W + h * W + w) * T + t``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torch import nn

from ..netlist.ir import MAX_RANK, InputEncoding, NetlistLayer
from .conv import LogicConv2d, conv_output_size
from .encoders import DistributiveThermometer
from .pool import OrPool2d

FreezeStep = Callable[[nn.Module, np.ndarray], tuple[list[NetlistLayer], np.ndarray]]


def restrict_to_zero(luts: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Fold constant-0 inputs into truth tables: ``table'[a] = table[a with those bits cleared]``.

    Args:
        luts: uint8 ``(n, 2**rank)`` MSB-first tables.
        zero: bool ``(n, rank)``: input ``j`` of LUT ``n`` is the constant 0.

    Returns:
        uint8 ``(n, 2**rank)`` tables that no longer depend on the zero inputs.
    """
    rank = zero.shape[1]
    weights = 1 << (rank - 1 - np.arange(rank))  # input j is address bit rank-1-j
    clear = (zero * weights).sum(axis=1)
    address = np.arange(2**rank)[None, :] & ~clear[:, None]
    return np.take_along_axis(luts, address, axis=1).astype(np.uint8)


def or_tables(n: int, rank: int) -> np.ndarray:
    """uint8 ``(n, 2**rank)`` OR tables: 0 at address 0, 1 elsewhere."""
    table = (np.arange(2**rank) > 0).astype(np.uint8)
    return np.tile(table, (n, 1))


def _layer(indices: np.ndarray, luts: np.ndarray) -> NetlistLayer:
    return NetlistLayer(np.ascontiguousarray(indices, dtype=np.int32),
                        np.ascontiguousarray(luts, dtype=np.uint8))


def _identity_where(*shape: int) -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


def _check_image_where(where: np.ndarray, channels: int | None, what: str) -> None:
    if where.ndim != 3 or (channels is not None and where.shape[0] != channels):
        expected = "(C, H, W)" if channels is None else f"(in_channels={channels}, H, W)"
        raise ValueError(f"{what} needs an activation of shape {expected}, "
                         f"got {tuple(where.shape)}")


def freeze_encoder(encoder: nn.Module, input_shape: tuple[int, ...]
                   ) -> tuple[InputEncoding, np.ndarray]:
    """The input encoding and the first ``where`` of a thermometer encoder.

    Args:
        encoder: a fitted :class:`Thermometer` or :class:`DistributiveThermometer`.
        input_shape: one sample's shape, ``(F,)`` or ``(C, H, W)``.

    Returns:
        ``(encoding, where)``; ``where`` has shape ``(F * T,)`` or ``(C * T, H, W)``.

    Raises:
        ValueError: an unfitted encoder or a shape it does not fit.
    """
    if isinstance(encoder, DistributiveThermometer) and not encoder.fitted:
        raise ValueError("the DistributiveThermometer is not fitted; call .fit() first")
    shape = tuple(int(s) for s in input_shape)
    thresholds = encoder.feature_thresholds(shape).detach().cpu().numpy()
    encoding = InputEncoding(np.ascontiguousarray(thresholds, dtype=np.float32))
    t = encoder.num_thresholds
    features = _identity_where(*shape)  # C-major feature index of every input value
    bits = features[..., None] * t + np.arange(t)  # (..., T): bit feature * T + t
    if len(shape) == 3:  # channel c * T + t of the encoded image
        bits = bits.transpose(0, 3, 1, 2).reshape(shape[0] * t, shape[1], shape[2])
    return encoding, bits.reshape(-1) if len(shape) == 1 else bits


def input_where(input_shape: tuple[int, ...]) -> np.ndarray:
    """``where`` of unencoded (binary) inputs: ``arange`` in the C-major flatten order."""
    return _identity_where(*(int(s) for s in input_shape))


def freeze_conv(layer: LogicConv2d, where: np.ndarray) -> tuple[list[NetlistLayer], np.ndarray]:
    """One layer per tree level, LUTs ordered ``(node, h', w')``; padded leaves folded to 0."""
    _check_image_where(where, layer.in_channels, "LogicConv2d")
    _, height, width = where.shape
    out_h, out_w = layer.output_size(height, width)
    k, s, p, rank = layer.kernel_size, layer.stride, layer.padding, layer.lut_rank
    offsets = layer.export_leaf_indices().cpu().numpy()  # (n0, rank)
    c, kh, kw = offsets // (k * k), offsets % (k * k) // k, offsets % k
    rows = np.arange(out_h)[None, :, None, None] * s + kh[:, None, None, :] - p
    cols = np.arange(out_w)[None, None, :, None] * s + kw[:, None, None, :] - p
    rows, cols = np.broadcast_arrays(rows, cols)  # (n0, H', W', rank)
    padded = (rows < 0) | (rows >= height) | (cols < 0) | (cols >= width)
    channel = np.broadcast_to(c[:, None, None, :], rows.shape)
    indices = np.where(padded, where.flat[0],
                       where[channel, rows.clip(0, height - 1), cols.clip(0, width - 1)])
    luts = layer.export_luts()
    positions = out_h * out_w
    tables = np.repeat(luts[0].cpu().numpy(), positions, axis=0)  # (n0 * H'W', 2**rank)
    zero = padded.reshape(-1, rank)
    tables = restrict_to_zero(tables, zero) if zero.any() else tables
    levels = [_layer(indices.reshape(-1, rank), tables)]
    pos = np.arange(positions)
    for lut in luts[1:]:  # node i at a position reads nodes i*r + j at that position
        nodes = lut.shape[0]
        below = (np.arange(nodes)[:, None, None] * rank + np.arange(rank)) * positions
        idx = below + pos[None, :, None]  # (nodes, H'W', rank)
        levels.append(_layer(idx.reshape(-1, rank),
                             np.repeat(lut.cpu().numpy(), positions, axis=0)))
    return levels, _identity_where(layer.out_channels, out_h, out_w)


def or_tree(indices: np.ndarray, valid: np.ndarray) -> list[NetlistLayer]:
    """Layers computing, for every row, the OR of its valid inputs.

    Args:
        indices: int ``(n, m)`` positions in the current level.
        valid: bool ``(n, m)``; an invalid slot is a constant 0.

    Returns:
        One layer when ``m <= 6``, else a tree whose first layer ORs groups of at
        most 6 slots (rows ``(n, group)``) and whose later layers OR the groups.
    """
    n, m = indices.shape
    if m <= MAX_RANK:
        luts = or_tables(n, m)
        if not valid.all():
            luts = restrict_to_zero(luts, ~valid)
        return [_layer(indices, luts)]
    groups = -(-m // MAX_RANK)
    size = -(-m // groups)
    pad = groups * size - m
    indices = np.pad(indices, ((0, 0), (0, pad)), constant_values=0)
    valid = np.pad(valid, ((0, 0), (0, pad)), constant_values=False)
    first = or_tree(indices.reshape(n * groups, size), valid.reshape(n * groups, size))
    nxt = np.arange(n * groups).reshape(n, groups)
    return first + or_tree(nxt, valid.reshape(n, groups, size).any(axis=2))


def freeze_or_pool(pool: OrPool2d, where: np.ndarray) -> tuple[list[NetlistLayer], np.ndarray]:
    """OR of the in-bounds window positions; ranks above 6 become an OR tree."""
    _check_image_where(where, None, "OrPool2d")
    channels, height, width = where.shape
    k, s, p = pool.kernel_size, pool.stride, pool.padding
    out_h = conv_output_size(height, k, s, p)
    out_w = conv_output_size(width, k, s, p)
    kh, kw = np.divmod(np.arange(k * k), k)
    rows = np.arange(out_h)[:, None, None] * s + kh - p  # (H', 1, k*k)
    cols = np.arange(out_w)[None, :, None] * s + kw - p  # (1, W', k*k)
    rows, cols = np.broadcast_arrays(rows, cols)  # (H', W', k*k)
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    order = np.argsort(~inside, axis=2, kind="stable")  # in-bounds slots first
    rank = max(int(inside.sum(axis=2).max()), 1)
    order = order[..., :rank]
    rows, cols = (np.take_along_axis(a, order, axis=2).clip(0, lim - 1)
                  for a, lim in ((rows, height), (cols, width)))
    valid = np.take_along_axis(inside, order, axis=2)
    idx = where[:, rows, cols]  # (C, H', W', rank)
    idx = np.where(valid[None], idx, where.flat[0])
    valid = np.broadcast_to(valid[None], idx.shape)
    levels = or_tree(idx.reshape(-1, rank), valid.reshape(-1, rank))
    return levels, _identity_where(channels, out_h, out_w)


def freeze_flatten(flatten: nn.Flatten, where: np.ndarray
                   ) -> tuple[list[NetlistLayer], np.ndarray]:
    """``where.reshape(-1)``: the C-major order of ``torch.flatten(x, 1)``."""
    if flatten.start_dim != 1 or flatten.end_dim != -1:
        raise ValueError(f"only nn.Flatten(start_dim=1, end_dim=-1) can be frozen, got "
                         f"start_dim={flatten.start_dim}, end_dim={flatten.end_dim}")
    return [], where.reshape(-1)


def remap_flat(layers: list[NetlistLayer], where: np.ndarray
               ) -> tuple[list[NetlistLayer], np.ndarray]:
    """Re-point flat layers (whose first layer indexes positions ``0..where.size-1``) at ``where``.

    Raises:
        ValueError: ``where`` is not flat (an image needs ``nn.Flatten()`` first).
    """
    if where.ndim != 1:
        raise ValueError(f"a flat layer needs a flat activation, got shape {tuple(where.shape)}; "
                         f"add nn.Flatten() after image layers")
    first = _layer(where[layers[0].indices], layers[0].luts)
    return [first, *layers[1:]], _identity_where(layers[-1].n_out)


def freeze_identity(module: nn.Module, where: np.ndarray
                    ) -> tuple[list[NetlistLayer], np.ndarray]:
    """Nothing to emit (``nn.Identity``)."""
    return [], where


def freeze_metadata(module: nn.Module) -> dict[str, str]:
    """Per-module netlist metadata (``parametrizations``, ``connections``) of a conv layer."""
    if not isinstance(module, LogicConv2d):
        return {}
    return {"parametrizations": type(module.parametrizations[0]).__name__,
            "connections": type(module.connections).__name__}


FREEZE_STEPS: dict[type[nn.Module], FreezeStep] = {
    LogicConv2d: freeze_conv,
    OrPool2d: freeze_or_pool,
    nn.Flatten: freeze_flatten,
    nn.Identity: freeze_identity,
}


def freeze_step(module: nn.Module) -> FreezeStep | None:
    """The step for ``module`` (by its class or nearest registered base), or ``None``."""
    for cls in type(module).__mro__:
        if cls in FREEZE_STEPS:
            return FREEZE_STEPS[cls]
    return None
