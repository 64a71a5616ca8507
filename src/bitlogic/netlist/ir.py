"""The frozen discrete description of a trained logic network: :class:`LogicNetlist`.

Training code and every deployment backend meet only here. A netlist is a
stack of LUT layers over a bit vector, optionally preceded by a thermometer
input encoding and always followed by GroupSum:

* **Encoding** (optional): input bit ``feature * num_thresholds + t`` is
  ``float32(x[feature]) > thresholds[feature, t]`` (strict ``>``, float32).
  With a :class:`~bitlogic.netlist.scaling.InputScaling` (format version 2)
  ``x`` is the *raw* feature and the comparison is with
  :attr:`InputEncoding.raw_thresholds`, the exact raw-space boundaries of
  ``scaled(x) > thresholds``; without one (and in every version-1 file) ``x``
  is the already *scaled input* the model was trained on.
* **Layers**: output ``n`` of a layer is ``luts[n, address]`` with the
  MSB-first address ``sum_j in[indices[n, j]] << (rank - 1 - j)`` (input 0 is
  the most significant bit).
* **GroupSum**: the last layer's outputs split into ``num_classes`` contiguous
  groups; ``counts[c]`` is the number of ones in group ``c`` and the scores are
  ``float32(counts) / float32(tau)``. Predictions are the argmax of the counts,
  ties to the lower class index.

The plain NumPy interpreter of these rules is :func:`bitlogic.netlist.evaluate_netlist`.

Example:
    >>> import numpy as np
    >>> layer = NetlistLayer(np.array([[0, 1], [1, 0]], np.int32),
    ...                      np.array([[0, 0, 0, 1], [0, 1, 1, 0]], np.uint8))
    >>> net = LogicNetlist(num_inputs=2, layers=[layer], num_classes=2, tau=1.0)
    >>> net.validate().num_gates
    2
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

# InputEncoding (defined in encoding.py) and FORMAT_NAME, NETLIST_HEADER_KEY and
# is_netlist_file (file_format.py) are re-exported: importers use this module.
from bitlogic.netlist.encoding import InputEncoding, _arrays_equal, _describe
from bitlogic.netlist.file_format import (  # noqa: F401
    FORMAT_NAME,
    NETLIST_HEADER_KEY,
    is_netlist_file,
    load_netlist,
    save_netlist,
)

if TYPE_CHECKING:  # optimize imports this module
    from bitlogic.netlist.optimize import SimplifyReport

MAX_RANK = 6


@dataclass(eq=False)
class NetlistLayer:
    """One layer of LUTs.

    Attributes:
        indices: int32 ``(n_out, rank)``: positions in the previous level (the
            input bits for layer 0) that feed each LUT, input 0 first.
        luts: uint8 ``(n_out, 2**rank)`` with values in {0, 1}; ``luts[n, a]``
            is the output for MSB-first address ``a``.
    """

    indices: np.ndarray
    luts: np.ndarray

    @property
    def n_out(self) -> int:
        """Number of LUTs (outputs) in the layer."""
        return int(self.indices.shape[0])

    @property
    def rank(self) -> int:
        """Inputs per LUT."""
        return int(self.indices.shape[1])

    def validate(self, in_width: int, name: str = "layer") -> NetlistLayer:
        """Check shapes, dtypes, ranges against the previous level's width.

        Args:
            in_width: width of the level feeding this layer.
            name: how the layer is called in error messages.

        Raises:
            ValueError: naming the first rule that is broken.
        """
        idx, luts = self.indices, self.luts
        if not isinstance(idx, np.ndarray) or idx.dtype != np.int32 or idx.ndim != 2:
            raise ValueError(f"{name}.indices must be an int32 (n_out, rank) array, "
                             f"got {_describe(idx)}")
        n_out, rank = idx.shape
        if n_out < 1:
            raise ValueError(f"{name} must have at least one LUT, got n_out={n_out}")
        if not 1 <= rank <= MAX_RANK:
            raise ValueError(f"{name} rank must be in 1..{MAX_RANK}, got {rank}")
        if not isinstance(luts, np.ndarray) or luts.dtype != np.uint8:
            raise ValueError(f"{name}.luts must be a uint8 array, got {_describe(luts)}")
        if luts.shape != (n_out, 2**rank):
            raise ValueError(
                f"{name}.luts must have shape (n_out, 2**rank) = {(n_out, 2**rank)}, "
                f"got {luts.shape}"
            )
        if np.any(luts > 1):
            n, a = (int(i) for i in np.argwhere(luts > 1)[0])
            raise ValueError(f"{name}.luts values must be 0 or 1, got {luts[n, a]} at [{n}, {a}]")
        out_of_range = (idx < 0) | (idx >= in_width)
        if np.any(out_of_range):
            n, j = (int(i) for i in np.argwhere(out_of_range)[0])
            raise ValueError(
                f"{name}.indices[{n}, {j}] = {idx[n, j]} is out of range for the previous "
                f"level's width {in_width} (allowed 0..{in_width - 1})"
            )
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NetlistLayer):
            return NotImplemented
        return _arrays_equal(self.indices, other.indices) and _arrays_equal(self.luts, other.luts)

    __hash__ = None  # type: ignore[assignment]


@dataclass(eq=False)
class LogicNetlist:
    """A frozen LUT network with GroupSum output.

    Attributes:
        num_inputs: bits entering layer 0 (``num_features * num_thresholds``
            when ``encoding`` is set).
        layers: one or more :class:`NetlistLayer`; ranks may differ per layer.
        num_classes: GroupSum ``k``; the last layer's width must divide by it.
        tau: GroupSum temperature (> 0): ``scores = float32(counts) / float32(tau)``.
        encoding: optional thermometer encoding of real-valued features.
        metadata: free text (parametrizations used, provenance, ...).
    """

    num_inputs: int
    layers: list[NetlistLayer]
    num_classes: int
    tau: float
    encoding: InputEncoding | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    FORMAT_VERSION: ClassVar[int] = 2  # 2: optional input scaling (1: scaled inputs only)

    # -- derived sizes -------------------------------------------------------------

    @property
    def input_width(self) -> int:
        """Columns a caller passes: features with an encoding, else input bits."""
        return self.encoding.num_features if self.encoding is not None else self.num_inputs

    @property
    def takes_raw_features(self) -> bool:
        """True when the encoding stores its input scaling: feed raw, unscaled features."""
        return self.encoding is not None and self.encoding.scaling is not None

    @property
    def num_gates(self) -> int:
        """Total number of LUTs over all layers."""
        return sum(layer.n_out for layer in self.layers)

    @property
    def group_size(self) -> int:
        """Outputs of the last layer per class."""
        return self.layers[-1].n_out // self.num_classes

    @property
    def lut_counts_by_rank(self) -> dict[int, int]:
        """Number of LUTs of each rank, e.g. ``{2: 48000}`` (a property, like ``num_gates``)."""
        counts: dict[int, int] = {}
        for layer in self.layers:
            counts[layer.rank] = counts.get(layer.rank, 0) + layer.n_out
        return dict(sorted(counts.items()))

    def __repr__(self) -> str:
        # One line of sizes: the dataclass default would print every index and table.
        if self.encoding is None:
            inputs = f"{self.num_inputs} input bits"
        else:
            enc = self.encoding
            raw = "" if enc.scaling is None else f", raw inputs ({enc.scaling.kind})"
            inputs = f"encoding {enc.num_features} features x {enc.num_thresholds} thresholds{raw}"
        groups = f" x {self.group_size}" if self.layers and self.num_classes else ""
        return (f"LogicNetlist({inputs}, {len(self.layers)} layers, LUTs by rank "
                f"{self.lut_counts_by_rank}, {self.num_classes} classes{groups}, "
                f"tau {self.tau:g})")

    # -- rules ----------------------------------------------------------------------

    def validate(self) -> LogicNetlist:
        """Check every rule of the format; return ``self`` so calls chain.

        Raises:
            ValueError: naming the first rule that is broken.
        """
        if not _is_int(self.num_inputs) or self.num_inputs < 1:
            raise ValueError(f"num_inputs must be a positive int, got {self.num_inputs!r}")
        if not isinstance(self.layers, list) or not self.layers:
            raise ValueError(f"layers must be a non-empty list, got {self.layers!r}")
        if not _is_int(self.num_classes) or self.num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {self.num_classes!r}")
        if (
            not isinstance(self.tau, (int, float, np.floating))
            or not math.isfinite(self.tau)
            or self.tau <= 0
        ):
            raise ValueError(f"tau must be a finite number > 0, got {self.tau!r}")
        if self.encoding is not None:
            if not isinstance(self.encoding, InputEncoding):
                raise ValueError(f"encoding must be an InputEncoding or None, "
                                 f"got {type(self.encoding).__name__}")
            self.encoding.validate()
            bits = self.encoding.num_features * self.encoding.num_thresholds
            if bits != self.num_inputs:
                raise ValueError(
                    f"num_inputs={self.num_inputs} does not match the encoding's "
                    f"num_features * num_thresholds = {bits}"
                )
        width = self.num_inputs
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, NetlistLayer):
                raise ValueError(f"layers[{i}] must be a NetlistLayer, got {type(layer).__name__}")
            layer.validate(width, name=f"layers[{i}]")
            width = layer.n_out
        if width % self.num_classes:
            raise ValueError(
                f"the last layer's width {width} is not divisible by num_classes="
                f"{self.num_classes}"
            )
        if not isinstance(self.metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.metadata.items()
        ):
            raise ValueError(f"metadata must be a dict[str, str], got {self.metadata!r}")
        return self

    def simplify(self) -> tuple[LogicNetlist, SimplifyReport]:
        """An equivalent, smaller netlist and a report of what was removed.

        See :func:`bitlogic.netlist.optimize.simplify_netlist`.
        """
        from bitlogic.netlist.optimize import simplify_netlist  # it imports this module

        return simplify_netlist(self)

    # -- persistence (the file format: :mod:`bitlogic.netlist.file_format`) -------------

    def save(self, path: str | Path) -> Path:
        """Validate and write the netlist as one safetensors file; return the path written.

        Loading it never executes code. See :mod:`bitlogic.netlist.file_format`.
        """
        return save_netlist(self, path)

    @classmethod
    def load(cls, path: str | Path) -> LogicNetlist:
        """Read a file written by :meth:`save` and validate it.

        Version-1 files have no scaling: their encodings take scaled inputs.

        Raises:
            ValueError: not a bitlogic netlist, written by a newer format
                version, or breaking a rule of :meth:`validate`.
        """
        return load_netlist(path, cls)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogicNetlist):
            return NotImplemented
        return (
            self.num_inputs == other.num_inputs
            and self.num_classes == other.num_classes
            and float(self.tau) == float(other.tau)
            and self.encoding == other.encoding
            and len(self.layers) == len(other.layers)
            and all(a == b for a, b in zip(self.layers, other.layers, strict=True))
            and self.metadata == other.metadata
        )

    __hash__ = None  # type: ignore[assignment]


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
