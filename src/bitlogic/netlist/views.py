"""One netlist evaluated on several views of its input, votes added: :func:`view_ensemble`.

A *view* is a permutation of the input features, such as an image's
left-right mirror (:func:`mirror_permutation`). The ensemble holds one copy
of every layer per view, side by side; copy ``v``'s first layer reads the
features ``x[perm_v]``, and class ``c``'s GroupSum group is the union of every
copy's group ``c``. Its counts are therefore the sums of the copies' counts,
and its scores ``float32(sum of counts) / float32(tau)``: what adding the
member networks' votes gives, exactly.

Why: where a mirror leaves the class unchanged (clothing, most natural
images), each image is judged twice, once through its mirror image: twice the
LUTs, and in hardware no extra latency (the copies run side by side; on the
packed CPU engine, twice the work). Training is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bitlogic.netlist.ir import LogicNetlist, NetlistLayer
from bitlogic.netlist.scaling import _describe


def mirror_permutation(shape: Sequence[int]) -> np.ndarray:
    """The feature permutation of a left-right mirror of ``(C, H, W)`` images.

    Returns:
        int64 ``(C * H * W,)``: the mirror image's feature ``f`` is the
        original's ``perm[f]`` (features in C-major, then row-major order).

    Raises:
        ValueError: ``shape`` is not three positive ints.
    """
    dims = tuple(shape)
    if len(dims) != 3 or not all(isinstance(d, (int, np.integer)) and d > 0 for d in dims):
        raise ValueError(f"shape must be three positive ints (C, H, W), got {shape!r}")
    return np.arange(int(np.prod(dims))).reshape(dims)[:, :, ::-1].reshape(-1)


def _check_permutation(perm: object, size: int, name: str) -> np.ndarray:
    arr = np.asarray(perm)
    if arr.shape != (size,) or not np.issubdtype(arr.dtype, np.integer) or not np.array_equal(
            np.sort(arr), np.arange(size)):
        raise ValueError(f"{name} must be a permutation of 0..{size - 1} (one entry per input "
                         f"feature), got {_describe(arr)}")
    return arr.astype(np.int64)


def input_bit_permutation(netlist: LogicNetlist, feature_perm: np.ndarray) -> np.ndarray:
    """The permutation of ``netlist``'s input bits that permuting its features makes.

    With an encoding, bit ``f * T + t`` of the view is the original's bit
    ``perm[f] * T + t``; that is the view's own bit only when the thresholds
    of ``f`` and ``perm[f]`` are equal, which is checked. Without one the
    features are the bits.

    Raises:
        ValueError: ``feature_perm`` is not a permutation of the input
            features, or moves a feature onto one with other thresholds.
    """
    perm = _check_permutation(feature_perm, netlist.input_width, "a view's permutation")
    enc = netlist.encoding
    if enc is None:
        return perm
    differs = np.any(enc.thresholds[perm] != enc.thresholds, axis=1)
    if np.any(differs):
        f = int(np.argmax(differs))
        raise ValueError(
            f"a view must map every feature onto one with the same thresholds (the copies "
            f"share the input encoding); feature {f} has thresholds "
            f"{enc.thresholds[f].tolist()} but its view reads feature {int(perm[f])} with "
            f"{enc.thresholds[perm[f]].tolist()} (use one set of thresholds for all features, "
            f"e.g. a thermometer over a fixed range)")
    t = enc.num_thresholds
    return (perm[:, None] * t + np.arange(t)).reshape(-1)


def view_ensemble(netlist: LogicNetlist, views: Sequence[object]) -> LogicNetlist:
    """``netlist`` once per view, side by side, with the copies' GroupSum counts added.

    Args:
        netlist: a valid netlist.
        views: one feature permutation per copy (see :func:`mirror_permutation`);
            include the identity ``np.arange(num_features)`` for the plain input.

    Returns:
        A netlist with ``len(views)`` times the LUTs, the same encoding,
        classes and tau, whose counts on ``x`` are the sum of ``netlist``'s
        counts on ``x[:, view]`` over the views. Its metadata records the
        number of views.

    Raises:
        ValueError: no views, or a view that :func:`input_bit_permutation` rejects.
    """
    netlist.validate()
    if len(views) < 1:
        raise ValueError("views must hold at least one permutation, got none")
    bit_perms = [input_bit_permutation(netlist, v) for v in views]
    copies = len(bit_perms)
    layers = []
    in_width = netlist.num_inputs
    for i, layer in enumerate(netlist.layers):
        if i == 0:
            reads = [p[layer.indices] for p in bit_perms]
        else:
            reads = [layer.indices + v * in_width for v in range(copies)]
        indices = np.concatenate(reads).astype(np.int32)
        layers.append(NetlistLayer(indices, np.concatenate([layer.luts] * copies)))
        in_width = layer.n_out
    # The last layer: class c's group is copy 0's group c, copy 1's group c, ...
    k, g = netlist.num_classes, netlist.group_size
    order = np.arange(copies * k * g).reshape(copies, k, g).transpose(1, 0, 2).reshape(-1)
    last = layers[-1]
    layers[-1] = NetlistLayer(np.ascontiguousarray(last.indices[order]),
                              np.ascontiguousarray(last.luts[order]))
    before = netlist.metadata.get("views", "1")
    total = copies * (int(before) if before.isdigit() else 1)
    metadata = {**netlist.metadata, "views": str(total)}
    return LogicNetlist(netlist.num_inputs, layers, k, netlist.tau, netlist.encoding,
                        metadata).validate()
