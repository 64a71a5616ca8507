"""Vectorised NumPy fallback of the packed engine (used when no C compiler exists).

Same packing as the compiled kernel (bit ``b`` of word ``w`` is sample
``64 * w + b``), same Shannon expansion, vectorised over all LUTs of a layer
instead of looping over them. It is a few times slower than the kernel but
needs nothing beyond NumPy; results are identical by construction and by test.
"""

from __future__ import annotations

import numpy as np

from bitlogic.backends.packed_program import PackedProgram
from bitlogic.netlist.reference import group_counts

CHUNK_SAMPLES = 4096  # keeps the (luts, 2**(rank-1), words) mux temporaries ~tens of MiB

_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack sample-major bits into signal-major words.

    Args:
        bits: bool ``(batch, n)``.

    Returns:
        uint64 ``(n, ceil(batch / 64))``; bit ``b`` of word ``w`` is sample
        ``64 * w + b``; padding samples are zero.
    """
    batch, n = bits.shape
    words = -(-batch // 64)
    padded = np.zeros((n, words * 64), dtype=bool)
    padded[:, :batch] = bits.T
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def unpack_bits(words: np.ndarray, batch: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: uint64 ``(n, words)`` -> bool ``(batch, n)``."""
    as_bytes = np.ascontiguousarray(words.astype("<u8")).view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :batch].T.astype(bool)


def eval_layer_packed(words: np.ndarray, indices: np.ndarray, luts: np.ndarray) -> np.ndarray:
    """One LUT layer on packed signals by Shannon expansion.

    Args:
        words: uint64 ``(width_in, W)`` packed signals of the previous level.
        indices: int ``(n, rank)``.
        luts: uint8 ``(n, 2**rank)``, MSB-first addresses.

    Returns:
        uint64 ``(n, W)``.
    """
    rank = indices.shape[1]
    # Level 0: each truth-table entry as an all-zeros / all-ones mask word.
    level = np.where(luts[:, :, None] != 0, _ALL_ONES, np.uint64(0))  # (n, 2**rank, 1)
    for j in range(rank - 1, -1, -1):  # the last input is the address LSB
        sel = words[indices[:, j]][:, None, :]  # (n, 1, W)
        lo, hi = level[:, 0::2], level[:, 1::2]
        level = lo ^ (sel & (lo ^ hi))
    return level[:, 0, :]


def run_numpy(program: PackedProgram, bits: np.ndarray) -> np.ndarray:
    """Counts for a batch of input bits.

    Args:
        program: the prepared netlist (only its netlist is used here).
        bits: bool ``(batch, num_inputs)``.

    Returns:
        int32 ``(batch, num_classes)`` GroupSum counts.
    """
    net = program.netlist
    counts = np.zeros((bits.shape[0], net.num_classes), dtype=np.int32)
    for start, outputs in _last_levels(program, bits):
        counts[start : start + outputs.shape[0]] = group_counts(outputs, net.num_classes)
    return counts


def last_level_numpy(program: PackedProgram, bits: np.ndarray) -> np.ndarray:
    """The last layer's outputs, bool ``(batch, width)``, for input bits ``(batch, num_inputs)``."""
    out = np.zeros((bits.shape[0], program.netlist.layers[-1].n_out), dtype=bool)
    for start, outputs in _last_levels(program, bits):
        out[start : start + outputs.shape[0]] = outputs
    return out


def _last_levels(program: PackedProgram, bits: np.ndarray):
    """``(first row, last layer's bool outputs)`` per chunk of ``CHUNK_SAMPLES`` rows."""
    for start in range(0, bits.shape[0], CHUNK_SAMPLES):
        chunk = bits[start : start + CHUNK_SAMPLES]
        words = pack_bits(chunk)
        for layer in program.netlist.layers:
            words = eval_layer_packed(words, layer.indices, layer.luts)
        yield start, unpack_bits(words, chunk.shape[0])
