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

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bitlogic.netlist.scaling import InputScaling, raw_thresholds

if TYPE_CHECKING:  # optimize imports this module
    from bitlogic.netlist.optimize import SimplifyReport

MAX_RANK = 6
FORMAT_NAME = "bitlogic-netlist"
NETLIST_HEADER_KEY = "bitlogic"
"""The safetensors metadata key holding a netlist file's JSON header."""


@dataclass(eq=False)
class InputEncoding:
    """Thermometer-family input encoding.

    Attributes:
        thresholds: float32 ``(num_features, num_thresholds)``, non-decreasing
            along each row, in the space the model was trained in (scaled
            features). Input bit ``feature * num_thresholds + t`` is
            ``float32(x[feature]) > raw_thresholds[feature, t]``.
        scaling: how raw features become the trained-on features, or ``None``
            when callers pass scaled features (then ``raw_thresholds`` is
            ``thresholds``).
    """

    thresholds: np.ndarray
    scaling: InputScaling | None = None

    @property
    def raw_thresholds(self) -> np.ndarray:
        """float32 ``(num_features, num_thresholds)``: the thresholds every backend compares
        the caller's features with (see :func:`~bitlogic.netlist.scaling.raw_thresholds`)."""
        return raw_thresholds(self.thresholds, self.scaling)

    @property
    def num_features(self) -> int:
        """Number of real-valued features entering the encoder."""
        return int(self.thresholds.shape[0])

    @property
    def num_thresholds(self) -> int:
        """Bits produced per feature."""
        return int(self.thresholds.shape[1])

    def validate(self) -> InputEncoding:
        """Check dtype, shape and ordering; return ``self``.

        Raises:
            ValueError: naming the first rule that is broken.
        """
        thr = self.thresholds
        if not isinstance(thr, np.ndarray) or thr.dtype != np.float32 or thr.ndim != 2:
            raise ValueError(
                "encoding.thresholds must be a float32 array (num_features, num_thresholds), "
                f"got {_describe(thr)}"
            )
        if thr.shape[0] < 1 or thr.shape[1] < 1:
            raise ValueError(f"encoding.thresholds must be non-empty, got shape {thr.shape}")
        if not np.all(np.isfinite(thr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(thr))[0])
            raise ValueError(f"encoding.thresholds must be finite, got {thr[bad]} at {bad}")
        if thr.shape[1] > 1 and np.any(np.diff(thr, axis=1) < 0):
            row = int(np.argwhere(np.diff(thr, axis=1) < 0)[0, 0])
            raise ValueError(
                f"encoding.thresholds must be ascending (non-decreasing) per feature; "
                f"feature {row} has {thr[row].tolist()}"
            )
        if self.scaling is not None:
            if not isinstance(self.scaling, InputScaling):
                raise ValueError(f"encoding.scaling must be an InputScaling or None, "
                                 f"got {type(self.scaling).__name__}")
            if self.scaling.validate().num_features != thr.shape[0]:
                raise ValueError(f"encoding.scaling has {self.scaling.num_features} features, "
                                 f"the thresholds {thr.shape[0]}; they must match")
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InputEncoding):
            return NotImplemented
        return _arrays_equal(self.thresholds, other.thresholds) and self.scaling == other.scaling

    __hash__ = None  # type: ignore[assignment]


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

    # -- persistence ---------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the netlist as one safetensors file (no code is ever executed on load).

        Tensors: ``encoding.thresholds`` (if any), float64
        ``encoding.scaling.offset`` and ``encoding.scaling.scale`` (if the
        encoding has a scaling), ``layers.{i}.indices`` and ``layers.{i}.luts``;
        the safetensors metadata key ``"bitlogic"`` holds a JSON header with the
        format name, version and scalar fields (``"scaling": {"clip", "kind"}``
        with a scaling).

        Returns:
            The path written.
        """
        from safetensors.numpy import save_file

        self.validate()
        tensors: dict[str, np.ndarray] = {}
        scaling = self.encoding.scaling if self.encoding is not None else None
        if self.encoding is not None:
            tensors["encoding.thresholds"] = np.ascontiguousarray(self.encoding.thresholds)
        if scaling is not None:
            tensors["encoding.scaling.offset"] = np.ascontiguousarray(scaling.offset)
            tensors["encoding.scaling.scale"] = np.ascontiguousarray(scaling.scale)
        for i, layer in enumerate(self.layers):
            tensors[f"layers.{i}.indices"] = np.ascontiguousarray(layer.indices)
            tensors[f"layers.{i}.luts"] = np.ascontiguousarray(layer.luts)
        header = {
            "format": FORMAT_NAME,
            "version": self.FORMAT_VERSION,
            "num_inputs": int(self.num_inputs),
            "num_classes": int(self.num_classes),
            "tau": float(self.tau),
            "num_layers": len(self.layers),
            "metadata": dict(self.metadata),
        }
        if scaling is not None:
            header["scaling"] = {"clip": bool(scaling.clip), "kind": scaling.kind}
        path = Path(path)
        save_file(tensors, str(path), metadata={NETLIST_HEADER_KEY: json.dumps(header)})
        return path

    @classmethod
    def load(cls, path: str | Path) -> LogicNetlist:
        """Read a file written by :meth:`save` and validate it.

        Version-1 files have no scaling: their encodings take scaled inputs.

        Raises:
            ValueError: not a bitlogic netlist, written by a newer format
                version, or breaking a rule of :meth:`validate`.
        """
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="np") as f:
                raw = (f.metadata() or {}).get(NETLIST_HEADER_KEY)
                tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
        except FileNotFoundError:
            raise
        except Exception as err:  # safetensors raises its own types for torn or foreign files
            raise ValueError(f"{path} is not a readable safetensors netlist ({err})") from None
        if raw is None:
            raise ValueError(
                f"{path} is not a bitlogic netlist (no '{NETLIST_HEADER_KEY}' header)"
            )
        header = _read_header(raw, path)
        if header.get("format") != FORMAT_NAME:
            raise ValueError(
                f"{path} has unknown format {header.get('format')!r}, expected {FORMAT_NAME!r}"
            )
        version = header.get("version")
        if not _is_int(version) or version > cls.FORMAT_VERSION:
            raise ValueError(
                f"{path} uses netlist format version {version!r}; this bitlogic reads up to "
                f"version {cls.FORMAT_VERSION} (upgrade bitlogic)"
            )
        _check_header_sizes(header, path, len(tensors))
        num_layers = int(header["num_layers"])
        expected = {f"layers.{i}.{part}" for i in range(num_layers) for part in ("indices", "luts")}
        if "encoding.thresholds" in tensors:
            expected.add("encoding.thresholds")
        scaling_header = header.get("scaling") if "encoding.thresholds" in tensors else None
        if scaling_header is not None:
            expected |= {"encoding.scaling.offset", "encoding.scaling.scale"}
        if set(tensors) != expected:
            raise ValueError(
                f"{path} tensors {sorted(tensors)} do not match the header's "
                f"{num_layers} layers"
            )
        encoding = None
        if "encoding.thresholds" in tensors:
            encoding = InputEncoding(tensors["encoding.thresholds"],
                                     _read_scaling(scaling_header, tensors, path))
        layers = [
            NetlistLayer(tensors[f"layers.{i}.indices"], tensors[f"layers.{i}.luts"])
            for i in range(num_layers)
        ]
        netlist = cls(
            num_inputs=int(header["num_inputs"]),
            layers=layers,
            num_classes=int(header["num_classes"]),
            tau=float(header["tau"]),
            encoding=encoding,
            metadata=dict(header.get("metadata", {})),
        )
        try:
            return netlist.validate()
        except ValueError as err:  # name the file: a rule broken on disk, not in code
            raise ValueError(f"{path}: {err}") from None

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


def is_netlist_file(path: str | Path) -> bool:
    """Whether ``path`` is a safetensors file with a bitlogic netlist header.

    Only the header is read; a missing file, a file that is not safetensors or
    one written by another program gives ``False``. :meth:`LogicNetlist.load`
    still checks the format version and every rule.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            raw = (f.metadata() or {}).get(NETLIST_HEADER_KEY)
    except Exception:  # safetensors raises its own error types for unreadable files
        return False
    if raw is None:
        return False
    try:
        header = json.loads(raw)
    except json.JSONDecodeError:
        return False
    return isinstance(header, dict) and header.get("format") == FORMAT_NAME


def _read_header(raw: str, path: str | Path) -> dict:
    """The JSON header of a netlist file (a JSON object)."""
    try:
        header = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"{path} has a netlist header that is not JSON ({err})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path} has a netlist header that is not a JSON object")
    return header


def _read_scaling(entry: object, tensors: dict[str, np.ndarray],
                  path: str | Path) -> InputScaling | None:
    """The encoding's scaling from the header's ``"scaling"`` entry and its two tensors."""
    if entry is None:
        return None
    if (not isinstance(entry, dict) or not isinstance(entry.get("clip"), bool)
            or not isinstance(entry.get("kind"), str)):
        raise ValueError(f"{path}: header field 'scaling' must be an object with a bool "
                         f"'clip' and a str 'kind', got {entry!r}")
    return InputScaling(tensors["encoding.scaling.offset"], tensors["encoding.scaling.scale"],
                        clip=entry["clip"], kind=entry["kind"])


def _check_header_sizes(header: dict, path: str | Path, num_tensors: int) -> None:
    """Check the header's counts against the tensors present, before anything is allocated.

    So a hostile header (``num_layers = 10**9`` in a small file) fails at once.
    """
    for key, lowest in (("num_layers", 1), ("num_inputs", 1), ("num_classes", 1)):
        if not _is_int(header.get(key)) or header[key] < lowest:
            raise ValueError(f"{path}: header field {key!r} must be an int >= {lowest}, "
                             f"got {header.get(key)!r}")
    if 2 * header["num_layers"] > num_tensors:
        raise ValueError(f"{path}: the header claims {header['num_layers']} layers but the "
                         f"file holds only {num_tensors} tensors (two per layer)")
    if not isinstance(header.get("tau"), (int, float)) or isinstance(header["tau"], bool):
        raise ValueError(f"{path}: header field 'tau' must be a number, "
                         f"got {header.get('tau')!r}")
    if not isinstance(header.get("metadata", {}), dict):
        raise ValueError(f"{path}: header field 'metadata' must be a JSON object")


def _arrays_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__
