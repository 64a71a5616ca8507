"""Fixed-point features and the integer comparisons that replace the thermometer on chip.

With ``emit_verilog(..., encoder="onchip")`` the design takes each feature as a
``width``-bit two's-complement (or unsigned) integer ``q`` meaning
``q * 2**-frac_bits``, and computes every thermometer bit with one integer
comparison. Each bound is found by bisection over ``q`` on the netlist's own
input path (:func:`bitlogic.netlist.reference.encode_inputs`: whatever
scaling the netlist applies before its float32 ``>``), so the circuit gives
exactly the bits the netlist gives for the dequantized value. That holds
because each thermometer bit reads one feature and is monotone in it, and
because ``width <= 24`` keeps every ``q * 2**-frac_bits`` exact in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bitlogic.netlist.ir import LogicNetlist
from bitlogic.netlist.reference import encode_inputs

MAX_WIDTH = 24  # float32 holds every integer of up to 24 bits exactly
MAX_FRAC_BITS = 64

# What each thermometer bit is in terms of the feature's integer q.
CONST0, CONST1, AT_LEAST, AT_MOST = 0, 1, 2, 3  # 0, 1, q >= bound, q <= bound


@dataclass(frozen=True)
class FixedPoint:
    """A feature format: ``width`` bits, value ``q * 2**-frac_bits``.

    Attributes:
        width: bits per feature, 2..24 (1..24 unsigned).
        frac_bits: fraction bits, 0..64 (may exceed ``width``: small values).
        signed: two's complement (default) or unsigned.
    """

    width: int
    frac_bits: int
    signed: bool = True

    def __post_init__(self) -> None:
        lowest = 2 if self.signed else 1
        if not _is_int(self.width) or not lowest <= self.width <= MAX_WIDTH:
            raise ValueError(f"feature_width must be an int in [{lowest}, {MAX_WIDTH}] "
                             f"({'signed' if self.signed else 'unsigned'}), got {self.width!r}")
        if not _is_int(self.frac_bits) or not 0 <= self.frac_bits <= MAX_FRAC_BITS:
            raise ValueError(f"feature_frac_bits must be an int in [0, {MAX_FRAC_BITS}], "
                             f"got {self.frac_bits!r}")
        if not isinstance(self.signed, bool):
            raise TypeError(f"feature_signed must be a bool, got {self.signed!r}")

    @property
    def min_int(self) -> int:
        """Smallest representable integer."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        """Largest representable integer."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def describe(self) -> str:
        """E.g. ``signed 16-bit, 8 fraction bits``."""
        kind = "signed" if self.signed else "unsigned"
        return f"{kind} {self.width}-bit, {self.frac_bits} fraction bits"

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """float32 values ``q * 2**-frac_bits`` (exact)."""
        return np.ldexp(np.asarray(q, dtype=np.float64), -self.frac_bits).astype(np.float32)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """int64 ``round(x * 2**frac_bits)`` (half to even), same shape as ``x``.

        Raises:
            ValueError: a value is NaN or outside the representable range (the
                feature, value and range are named; nothing is clamped).
        """
        scaled = np.ldexp(np.asarray(x, dtype=np.float64), self.frac_bits)
        bad = ~np.isfinite(scaled) | (np.rint(scaled) < self.min_int) | (
            np.rint(scaled) > self.max_int)
        if np.any(bad):
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"test input {float(np.asarray(x)[where])} at {list(where)} does not fit the "
                f"{self.describe()} feature format (integers {self.min_int}..{self.max_int}); "
                "widen feature_width or lower feature_frac_bits"
            )
        return np.rint(scaled).astype(np.int64)

    def literal(self, value: int) -> str:
        """Verilog literal of ``value`` in this format, e.g. ``8'sh85``."""
        mask = (1 << self.width) - 1
        return f"{self.width}'{'s' if self.signed else ''}h{value & mask:x}"


@dataclass(frozen=True)
class FixedPointThresholds:
    """Per input bit: how it follows from its feature's integer.

    Attributes:
        op: int8 ``(num_inputs,)``: ``CONST0``, ``CONST1``, ``AT_LEAST`` or ``AT_MOST``.
        bound: int64 ``(num_inputs,)``: the comparison constant (0 for constants).
        num_thresholds: bits per feature (bit ``i`` reads feature ``i // num_thresholds``).
    """

    op: np.ndarray
    bound: np.ndarray
    num_thresholds: int

    def apply(self, q: np.ndarray) -> np.ndarray:
        """The input bits, bool ``(batch, num_inputs)``, of integer features ``(batch, F)``."""
        v = np.repeat(np.asarray(q, dtype=np.int64), self.num_thresholds, axis=1)
        return _compare(self.op, self.bound, v)


def fixed_point_thresholds(netlist: LogicNetlist, fmt: FixedPoint) -> FixedPointThresholds:
    """The integer comparison for every thermometer bit of ``netlist`` in format ``fmt``.

    Raises:
        ValueError: the netlist has no input encoding (nothing to encode), or
            a bit is not monotone in its feature (the bisection is checked).
    """
    enc = netlist.encoding
    if enc is None:
        raise ValueError("encoder='onchip' needs a netlist with an input encoding "
                         "(thresholds); this one takes bits")
    features, per = enc.num_features, enc.num_thresholds

    def bits(q: np.ndarray) -> np.ndarray:
        """Bit ``(f, t)`` of feature ``f`` at integer ``q[f, t]``: bool ``(F, T)``."""
        rows = fmt.dequantize(q.T)  # row t holds every feature's candidate for threshold t
        out = encode_inputs(netlist, rows).reshape(per, features, per)
        return out[np.arange(per), :, np.arange(per)].T

    shape = (features, per)
    lo, hi = np.full(shape, fmt.min_int), np.full(shape, fmt.max_int)
    at_lo, at_hi = bits(lo), bits(hi)
    rising = ~at_lo & at_hi
    # bisect on the first q whose bit differs from the bit at min_int
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        same = bits(mid) == at_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    op = np.where(at_lo == at_hi, np.where(at_lo, CONST1, CONST0),
                  np.where(rising, AT_LEAST, AT_MOST)).astype(np.int8)
    bound = np.where(at_lo == at_hi, 0, np.where(rising, hi, lo)).astype(np.int64)
    rule = FixedPointThresholds(op.reshape(-1), bound.reshape(-1), per)
    _check_edges(rule, bits, fmt)
    return rule


def _check_edges(rule: FixedPointThresholds, bits, fmt: FixedPoint) -> None:
    """The rule matches the netlist at and on both sides of every bound."""
    per = rule.num_thresholds
    for offset in (-1, 0, 1):
        q = np.clip(rule.bound + offset, fmt.min_int, fmt.max_int)
        expected = bits(q.reshape(-1, per)).reshape(-1)
        got = _compare(rule.op, rule.bound, q)
        if not np.array_equal(got, expected):
            i = int(np.argwhere(got != expected)[0, 0])
            raise ValueError(f"thermometer bit {i} is not monotone in feature {i // per} "
                             f"in the {fmt.describe()} format; on-chip encoding needs it")


def _compare(op: np.ndarray, bound: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Elementwise bit of integer ``v`` under ``(op, bound)`` (broadcasting)."""
    return np.where(op == CONST1, True,
                    np.where(op == AT_LEAST, v >= bound, (op == AT_MOST) & (v <= bound)))


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
