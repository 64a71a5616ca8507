"""The netlist file: one safetensors file, read back without running any code.

A netlist file holds the tensors

* ``encoding.thresholds`` (float32, if the netlist has an encoding);
* ``encoding.scaling.offset`` and ``encoding.scaling.scale`` (float64, if the
  encoding has an :class:`~bitlogic.netlist.scaling.InputScaling`);
* ``layers.{i}.indices`` (int32) and ``layers.{i}.luts`` (uint8) per layer;

and under the safetensors metadata key :data:`NETLIST_HEADER_KEY` a JSON
header with the format name, version and scalar fields (``num_inputs``,
``num_classes``, ``tau``, ``num_layers``, ``metadata``, and ``"scaling":
{"clip", "kind"}`` with a scaling). Version-1 files have no scaling.

Reading checks the header against the tensors before anything is built, so a
torn, foreign or hostile file fails with a ``ValueError`` naming it.
:func:`open_safetensors` (errors that name the file) and
:func:`read_json_metadata` (the JSON header) are shared by every bitlogic
safetensors reader, the training checkpoints and run directories too.

Imports NumPy and safetensors only, never torch. Callers use
:meth:`~bitlogic.netlist.ir.LogicNetlist.save`,
:meth:`~bitlogic.netlist.ir.LogicNetlist.load` and :func:`is_netlist_file`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bitlogic.netlist.scaling import InputScaling

if TYPE_CHECKING:  # ir imports this module
    from bitlogic.netlist.ir import LogicNetlist

FORMAT_NAME = "bitlogic-netlist"
NETLIST_HEADER_KEY = "bitlogic"
"""The safetensors metadata key holding a netlist file's JSON header."""


@contextmanager
def open_safetensors(path: str | Path, what: str = "readable safetensors file") -> Iterator[Any]:
    """Open a safetensors file to read, so that a bad file fails with a ``ValueError`` naming it.

    Tensors come back as NumPy arrays; reading the metadata never needs torch.

    Args:
        path: the file.
        what: what the file should be, for the message (``"readable safetensors netlist"``).

    Yields:
        The ``safetensors.safe_open`` handle (``metadata()``, ``keys()``, ``get_tensor``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``"{path} is not a {what} ({error})"`` when opening the file or
            reading from the handle inside the ``with`` block fails (a torn, foreign
            or non-safetensors file). Any other exception raised inside the block
            becomes this error too, so keep checks of what was read outside it.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            yield f
    except FileNotFoundError:
        raise
    except Exception as err:  # safetensors raises its own types for torn or foreign files
        raise ValueError(f"{path} is not a {what} ({err})") from None


def read_json_metadata(raw: str, path: str | Path, what: str) -> dict[str, Any]:
    """Parse the JSON object stored as a string in a safetensors file's metadata.

    Args:
        raw: the metadata value.
        path: the file, for error messages.
        what: what the value is, for error messages (``"netlist header"``).

    Raises:
        ValueError: ``raw`` is not JSON, or not a JSON object; the message
            names ``path`` and ``what``.
    """
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"{path} has a {what} that is not JSON ({err})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} has a {what} that is not a JSON object")
    return value


def is_netlist_file(path: str | Path) -> bool:
    """Whether ``path`` is a safetensors file with a bitlogic netlist header.

    Only the header is read; a missing file, a file that is not safetensors or
    one written by another program gives ``False``;
    :meth:`~bitlogic.netlist.ir.LogicNetlist.load` still checks the format
    version and every rule.
    """
    try:
        with open_safetensors(path) as f:
            raw = (f.metadata() or {}).get(NETLIST_HEADER_KEY)
    except (OSError, ValueError):  # missing, unreadable, or not a safetensors file
        return False
    if raw is None:
        return False
    try:
        header = read_json_metadata(raw, path, "netlist header")
    except ValueError:
        return False
    return header.get("format") == FORMAT_NAME


def save_netlist(netlist: LogicNetlist, path: str | Path) -> Path:
    """Validate ``netlist`` and write it to ``path``; return the path written."""
    from safetensors.numpy import save_file

    netlist.validate()
    tensors: dict[str, np.ndarray] = {}
    encoding = netlist.encoding
    scaling = encoding.scaling if encoding is not None else None
    if encoding is not None:
        tensors["encoding.thresholds"] = np.ascontiguousarray(encoding.thresholds)
    if scaling is not None:
        tensors["encoding.scaling.offset"] = np.ascontiguousarray(scaling.offset)
        tensors["encoding.scaling.scale"] = np.ascontiguousarray(scaling.scale)
    for i, layer in enumerate(netlist.layers):
        tensors[f"layers.{i}.indices"] = np.ascontiguousarray(layer.indices)
        tensors[f"layers.{i}.luts"] = np.ascontiguousarray(layer.luts)
    header = {
        "format": FORMAT_NAME,
        "version": netlist.FORMAT_VERSION,
        "num_inputs": int(netlist.num_inputs),
        "num_classes": int(netlist.num_classes),
        "tau": float(netlist.tau),
        "num_layers": len(netlist.layers),
        "metadata": dict(netlist.metadata),
    }
    if scaling is not None:
        header["scaling"] = {"clip": bool(scaling.clip), "kind": scaling.kind}
    path = Path(path)
    save_file(tensors, str(path), metadata={NETLIST_HEADER_KEY: json.dumps(header)})
    return path


def load_netlist(path: str | Path, cls: type[LogicNetlist] | None = None) -> LogicNetlist:
    """Read a file written by :func:`save_netlist` as a validated ``cls`` (a LogicNetlist).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not a bitlogic netlist, written by a newer format version,
            or breaking a rule of :meth:`~bitlogic.netlist.ir.LogicNetlist.validate`.
    """
    from bitlogic.netlist.ir import InputEncoding, LogicNetlist, NetlistLayer  # it imports us

    cls = LogicNetlist if cls is None else cls
    with open_safetensors(path, "readable safetensors netlist") as f:
        raw = (f.metadata() or {}).get(NETLIST_HEADER_KEY)
        tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
    if raw is None:
        raise ValueError(f"{path} is not a bitlogic netlist (no '{NETLIST_HEADER_KEY}' header)")
    header = read_json_metadata(raw, path, "netlist header")
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
            f"{path} tensors {sorted(tensors)} do not match the header's {num_layers} layers"
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


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
