"""ctypes binding of the fused training kernels (``csrc/train_*.c``).

The library is built once per machine by :func:`bitlogic._native.load_library`
(plain C + OpenMP, no torch headers). Tensors cross the boundary as raw
``data_ptr()`` addresses; the callers in this package check dtype, device
and contiguity before they get here.
"""

from __future__ import annotations

import ctypes
import threading

import torch

from .. import _native

LIBRARY_NAME = "bitlogic_train"
SOURCES = ["train_fold.c", "train_lookup.c", "train_route.c", "train_softmax.c"]

# Enums of csrc/train_layer.h.
BASIS_INDICATOR, BASIS_WALSH, BASIS_LINEAR = 0, 1, 2
SAMPLE_NONE, SAMPLE_SOFT, SAMPLE_HARD, SAMPLE_HARD_BERNOULLI = 0, 1, 2, 3
SAMPLE_GUMBEL_SOFT, SAMPLE_GUMBEL_HARD = 4, 5
MAX_CANDIDATES = 64  # BL_MAX_CANDIDATES
_ERRORS = {-1: "rank must be 2, 4 or 6", -2: "unknown basis", -3: "unknown sampling mode",
           -4: f"candidate pools must hold 1 to {MAX_CANDIDATES} inputs"}

_p = ctypes.c_void_p
_i64 = ctypes.c_int64
_i32 = ctypes.c_int32


class LayerStruct(ctypes.Structure):
    """Mirror of ``bl_layer`` in ``csrc/train_layer.h``."""

    _fields_ = [
        ("rank", _i32),
        ("basis", _i32),
        ("sampling", _i32),
        ("nthreads", _i32),
        ("batch", _i64),
        ("in_dim", _i64),
        ("out_dim", _i64),
        ("temperature", ctypes.c_float),
        ("xT", _p),
        ("idx", _p),
        ("coeffs", _p),
        ("noiseT", _p),
    ]


class RouteStruct(ctypes.Structure):
    """Mirror of ``bl_route`` in ``csrc/train_layer.h``."""

    _fields_ = [
        ("dxT", _p),
        ("scratch", _p),
        ("cand", _p),
        ("probs", _p),
        ("dprobs", _p),
        ("num_candidates", _i32),
        ("spread", _i32),
    ]


_LAYER = ctypes.POINTER(LayerStruct)
_ROUTE = ctypes.POINTER(RouteStruct)
_SIGNATURES = {
    "bl_fold_forward": (ctypes.c_int, [_LAYER, _p]),
    "bl_fold_backward": (ctypes.c_int, [_LAYER, _p, _p, _ROUTE]),
    "bl_lookup_forward": (ctypes.c_int, [_LAYER, _p]),
    "bl_lookup_backward": (ctypes.c_int, [_LAYER, _p, _p, _p, _ROUTE]),
    "bl_index_to_i32": (_i64, [_p, _i64, _i64, _p]),
    "bl_column_argmax": (None, [_p, _i64, _i64, _p, _p, _p, ctypes.c_int]),
    "bl_column_softmax": (None, [_p, _p, _i64, _i64, ctypes.c_float, _p, _p, ctypes.c_int]),
    "bl_column_softmax_backward": (None, [_p, _p, _p, _i64, _i64, ctypes.c_float, _p, _p,
                                          ctypes.c_int]),
}


def load() -> ctypes.CDLL | None:
    """The compiled training kernels with signatures set, or ``None`` when unavailable."""
    lib = _native.load_library(LIBRARY_NAME, SOURCES)
    if lib is not None and not getattr(lib, "_bitlogic_typed", False):
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        lib._bitlogic_typed = True
    return lib


def library() -> ctypes.CDLL:
    """The loaded library; raises ``RuntimeError`` when it cannot be built."""
    lib = load()
    if lib is None:
        raise RuntimeError("bitlogic training kernels are unavailable (see the earlier warning)")
    return lib


def ptr(t: torch.Tensor | None) -> int | None:
    """Address of a tensor's first element (``None`` for ``None``)."""
    return None if t is None else t.data_ptr()


def check(code: int, what: str) -> None:
    """Raise ``RuntimeError`` for a non-zero kernel status."""
    if code != 0:
        raise RuntimeError(f"{what} failed: {_ERRORS.get(code, code)}")


def num_threads() -> int:
    """OpenMP threads to pass: the same count PyTorch's intra-op pool uses."""
    return torch.get_num_threads()


_workspace = threading.local()


def workspace(numel: int) -> torch.Tensor:
    """A float32 scratch buffer of ``numel`` elements, reused per thread.

    Kernel scratch is overwritten before it is read; keeping it alive between
    steps avoids paging multi-megabyte allocations back in every call.
    """
    buf = getattr(_workspace, "buf", None)
    if buf is None or buf.numel() < numel:
        buf = torch.empty(numel)
        _workspace.buf = buf
    return buf[:numel]


def layer_struct(
    xT: torch.Tensor,
    selected: torch.Tensor,
    coeffs: torch.Tensor,
    basis: int = BASIS_INDICATOR,
    sampling: int = SAMPLE_NONE,
    temperature: float = 1.0,
    noiseT: torch.Tensor | None = None,
) -> LayerStruct:
    """Describe one layer call; the tensors must outlive the kernel call.

    Args:
        xT: float32 ``(in_dim, batch)`` contiguous.
        selected: int32 ``(rank, out)`` contiguous.
        coeffs: float32 ``(out, num_coeffs)`` contiguous.
        basis: ``BASIS_*``.
        sampling: ``SAMPLE_*``.
        temperature: sigmoid temperature.
        noiseT: float32 ``(out, batch)`` logistic noise, or ``None``.
    """
    return LayerStruct(
        rank=selected.shape[0], basis=basis, sampling=sampling, nthreads=num_threads(),
        batch=xT.shape[1], in_dim=xT.shape[0], out_dim=selected.shape[1],
        temperature=temperature, xT=ptr(xT), idx=ptr(selected), coeffs=ptr(coeffs),
        noiseT=ptr(noiseT),
    )
