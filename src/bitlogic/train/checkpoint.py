"""Checkpoints without pickle: tensors in safetensors, everything else as JSON metadata.

A checkpoint file holds

* ``model/<name>``: the model's ``state_dict`` tensors;
* ``optim/<param index>/<name>``: the optimizer's per-parameter tensors;
* ``rng/torch`` (and ``rng/cuda/<i>``, ``rng/numpy``): random generator states;
* the safetensors metadata key ``"bitlogic-train"``: JSON with the kind
  (``checkpoint`` or ``model``), the config, epoch/step, loop state, the
  optimizer's param groups and non-tensor state, and the Python/NumPy RNG
  scalars.

Files are replaced atomically (write ``*.tmp``, fsync, ``os.replace``), so a
process killed mid-write leaves the previous checkpoint intact. Loading
validates before trusting: a torn or foreign file, a header from a newer
format version, or model weights that are NaN or infinite raise a
``ValueError`` naming the file.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bitlogic.netlist.file_format import open_safetensors, read_json_metadata

HEADER_KEY = "bitlogic-train"
KINDS = ("checkpoint", "model")
#: Format version written into every header; a newer one is refused on load
#: (a header without one is version 1).
CHECKPOINT_VERSION = 1


@dataclass
class Checkpoint:
    """The contents of a checkpoint file.

    Attributes:
        model_state: the model ``state_dict``.
        meta: the JSON header (``kind``, ``config``, ``epoch``, ...).
        optimizer_state: an optimizer ``state_dict`` or ``None``.
        rng_state: see :func:`capture_rng`, or ``None``.
    """

    model_state: dict[str, torch.Tensor]
    meta: dict[str, Any]
    optimizer_state: dict[str, Any] | None = None
    rng_state: dict[str, Any] | None = field(default=None)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a torn one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    if hasattr(os, "O_DIRECTORY"):  # persist the rename itself (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


def capture_rng(device: torch.device | None = None) -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA when ``device`` is CUDA) generator states."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, py_state, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"name": name, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": [version, list(py_state), gauss],
    }
    if device is not None and device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached"]))
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` atomically to ``path`` (a ``.safetensors`` file).

    Raises:
        ValueError: ``meta["kind"]`` is not ``checkpoint`` or ``model``.
    """
    from safetensors.torch import save as save_bytes

    meta = dict(checkpoint.meta)
    meta.setdefault("version", CHECKPOINT_VERSION)
    if meta.get("kind") not in KINDS:
        raise ValueError(f"meta['kind'] must be one of {KINDS}, got {meta.get('kind')!r}")
    tensors = {f"model/{k}": v for k, v in checkpoint.model_state.items()}
    if checkpoint.optimizer_state is not None:
        groups, scalars, opt_tensors = _split_optimizer(checkpoint.optimizer_state)
        meta["optimizer"] = {"param_groups": groups, "state": scalars}
        tensors.update(opt_tensors)
    if checkpoint.rng_state is not None:
        rng = checkpoint.rng_state
        tensors["rng/torch"] = rng["torch"]
        tensors["rng/numpy"] = rng["numpy"]["keys"]
        for i, s in enumerate(rng.get("cuda", [])):
            tensors[f"rng/cuda/{i}"] = s
        numpy_meta = {k: v for k, v in rng["numpy"].items() if k != "keys"}
        meta["rng"] = {"numpy": numpy_meta, "python": rng["python"],
                       "cuda_devices": len(rng.get("cuda", []))}
    # Copies: safetensors refuses views and shared storage, and the caller keeps training.
    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
    return atomic_write(path, save_bytes(tensors, metadata={HEADER_KEY: json.dumps(meta)}))


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON header of a training checkpoint, or ``None`` for other safetensors files.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not a readable safetensors file, a header that is not a JSON
            object, or one of a newer format version.
    """
    with open_safetensors(path, "readable safetensors file") as f:
        raw = (f.metadata() or {}).get(HEADER_KEY)
    if raw is None:
        return None
    meta = read_json_metadata(raw, path, "training header")
    version = meta.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path}: header 'version' must be an int >= 1, got {version!r}")
    if version > CHECKPOINT_VERSION:
        raise ValueError(f"{path} uses checkpoint format version {version}; this bitlogic "
                         f"reads up to version {CHECKPOINT_VERSION} (upgrade bitlogic)")
    return meta


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a file written by :func:`save_checkpoint`.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a bitlogic training checkpoint, is torn, was
            written by a newer version, misses a section its header names, or
            holds NaN or infinite model weights.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    meta = read_meta(path)
    if meta is None:
        raise ValueError(f"{path} is not a bitlogic training checkpoint "
                         f"(no {HEADER_KEY!r} header)")
    try:
        return _unpack(path, meta)
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"{path} is not a complete bitlogic training checkpoint "
                         f"(missing or malformed {err})") from None


def _unpack(path: str | os.PathLike[str], meta: dict[str, Any]) -> Checkpoint:
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except Exception as err:  # safetensors raises its own types for torn files
        raise ValueError(f"{path} is not a readable safetensors file ({err})") from None
    for key, value in tensors.items():
        if key.startswith("model/") and value.is_floating_point() and \
                not bool(torch.isfinite(value).all()):
            raise ValueError(f"{path}: tensor {key!r} holds NaN or infinite values; "
                             f"a model must have finite weights")
    model_state = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    optimizer_state = None
    if "optimizer" in meta:
        optimizer_state = _join_optimizer(meta.pop("optimizer"), tensors)
    rng_state = None
    if "rng" in meta:
        rng = meta.pop("rng")
        rng_state = {
            "torch": tensors["rng/torch"],
            "numpy": dict(rng["numpy"], keys=tensors["rng/numpy"]),
            "python": rng["python"],
        }
        if rng["cuda_devices"]:
            rng_state["cuda"] = [tensors[f"rng/cuda/{i}"] for i in range(rng["cuda_devices"])]
    return Checkpoint(model_state, meta, optimizer_state, rng_state)


def _split_optimizer(state: dict[str, Any]) -> tuple[list, dict, dict[str, torch.Tensor]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{index}/{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    return state["param_groups"], scalars, tensors


def _join_optimizer(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, index, name = key.split("/", 2)
            state.setdefault(int(index), {})[name] = value
    for index, entries in meta["state"].items():
        state.setdefault(int(index), {}).update(entries)
    return {"state": state, "param_groups": meta["param_groups"]}
