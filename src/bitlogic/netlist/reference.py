"""The living definition of the discrete semantics: a plain NumPy netlist interpreter.

Every backend (packed engine, C, Verilog) is tested bit-for-bit against
:func:`evaluate_netlist`. It favours obviousness over speed: one boolean per
sample and signal, one table lookup per LUT output.
"""

from __future__ import annotations

import numpy as np

from bitlogic.netlist.ir import InputEncoding, LogicNetlist


def as_input_bits(x: object, num_inputs: int) -> np.ndarray:
    """Check that ``x`` is a binary ``(batch, num_inputs)`` array and return it as bool.

    Args:
        x: bool, or numeric with every value exactly 0 or 1; shape ``(batch, num_inputs)``.
        num_inputs: required number of columns.

    Returns:
        bool ``(batch, num_inputs)``.

    Raises:
        ValueError: wrong shape, or a value other than 0/1 (the value and its
            position are named).
    """
    arr = np.asarray(x)
    _check_2d(arr, num_inputs, "input bits")
    if arr.dtype == np.bool_:
        return arr
    if not (np.issubdtype(arr.dtype, np.number)):
        raise ValueError(f"x must be bool or numeric, got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)
    if np.any(bad):
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"x must be binary (0/1) for a netlist without input encoding; "
            f"got {arr[row, col]!r} at [{row}, {col}]"
        )
    return arr != 0


def as_features(x: object, encoding: InputEncoding) -> np.ndarray:
    """Check the feature matrix and return it as float32 ``(batch, num_features)``."""
    arr = np.asarray(x)
    _check_2d(arr, encoding.num_features, "features")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"x must be numeric features, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def encode_inputs(netlist: LogicNetlist, x: object) -> np.ndarray:
    """The input bits entering layer 0.

    Args:
        netlist: the network.
        x: features ``(batch, num_features)`` when the netlist has an encoding
            (raw when it has a scaling), else binary ``(batch, num_inputs)``.

    Returns:
        bool ``(batch, num_inputs)``; with an encoding, bit
        ``f * num_thresholds + t`` is ``float32(x[:, f]) > raw_thresholds[f, t]``
        (the thresholds themselves without a scaling: ``x`` is then already scaled).
    """
    if netlist.encoding is None:
        return as_input_bits(x, netlist.num_inputs)
    feats = as_features(x, netlist.encoding)
    bits = feats[:, :, None] > netlist.encoding.raw_thresholds[None, :, :]
    return bits.reshape(feats.shape[0], netlist.num_inputs)


def evaluate_layers(netlist: LogicNetlist, bits: np.ndarray) -> np.ndarray:
    """Run the LUT layers on input bits.

    Args:
        netlist: the network.
        bits: bool ``(batch, num_inputs)``.

    Returns:
        bool ``(batch, n_out)`` of the last layer.
    """
    level = np.asarray(bits, dtype=bool)
    for layer in netlist.layers:
        address = np.zeros((level.shape[0], layer.n_out), dtype=np.intp)
        for j in range(layer.rank):  # input 0 ends up as the most significant bit
            address = (address << 1) | level[:, layer.indices[:, j]]
        # row n of luts starts at n * 2**rank in the flattened table
        level = np.take(layer.luts, address + np.arange(layer.n_out) * 2**layer.rank) != 0
    return level


def group_counts(outputs: np.ndarray, num_classes: int) -> np.ndarray:
    """GroupSum counts: ones per contiguous group of the last layer.

    Args:
        outputs: bool ``(batch, n_out)``, ``n_out`` divisible by ``num_classes``.
        num_classes: number of groups ``k``.

    Returns:
        int64 ``(batch, k)``.
    """
    batch, n_out = outputs.shape
    return outputs.reshape(batch, num_classes, n_out // num_classes).sum(axis=2, dtype=np.int64)


def scores_from_counts(counts: np.ndarray, tau: float) -> np.ndarray:
    """``float32(counts) / float32(tau)`` — the class scores."""
    return counts.astype(np.float32) / np.float32(tau)


def predict_from_counts(counts: np.ndarray) -> np.ndarray:
    """Argmax over classes with ties to the lower class index; int64 ``(batch,)``."""
    return np.argmax(counts, axis=1).astype(np.int64)  # argmax returns the first maximum


def evaluate_netlist(netlist: LogicNetlist, x: object) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a netlist: the reference every backend must match exactly.

    Args:
        netlist: the network (validated here).
        x: float features ``(batch, num_features)`` when the netlist has an
            encoding; else binary ``(batch, num_inputs)`` as bool or 0/1 numbers.

    Returns:
        ``(scores, counts)``: float32 ``(batch, num_classes)`` and int64
        ``(batch, num_classes)``.

    Raises:
        ValueError: wrong shape, or non-binary values without an encoding.

    Example:
        >>> import numpy as np
        >>> from bitlogic.netlist import LogicNetlist, NetlistLayer
        >>> layer = NetlistLayer(np.array([[0, 1]], np.int32), np.array([[0, 0, 0, 1]], np.uint8))
        >>> net = LogicNetlist(num_inputs=2, layers=[layer], num_classes=1, tau=2.0)
        >>> evaluate_netlist(net, np.array([[1, 1], [0, 1]]))[1].tolist()
        [[1], [0]]
    """
    netlist.validate()
    outputs = evaluate_layers(netlist, encode_inputs(netlist, x))
    counts = group_counts(outputs, netlist.num_classes)
    return scores_from_counts(counts, netlist.tau), counts


def _check_2d(arr: np.ndarray, width: int, what: str) -> None:
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"x must have shape (batch, {width}) of {what}, got {arr.shape}")
