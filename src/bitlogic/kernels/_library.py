"""Declaration of the fused training kernels (``csrc/train/``) on :class:`bitlogic.native.Library`.

The library is built once per machine (plain C + OpenMP, no torch headers)
and checked on load against the structs and enums mirrored here. Tensors
cross the boundary as raw ``data_ptr()`` addresses; the callers in this
package check dtype, device and contiguity before they get here.
"""

from __future__ import annotations

import ctypes
import threading

import torch

from bitlogic import native

LIBRARY_NAME = "bitlogic_train"
SOURCES = ["train/train_fold.c", "train/train_lookup.c", "train/train_route.c",
           "train/train_softmax.c", "train/train_abi.c"]
ABI_VERSION = 2  # BL_TRAIN_ABI_VERSION

# Enums of csrc/train/train_layer.h.
BASIS_INDICATOR, BASIS_WALSH, BASIS_LINEAR = 0, 1, 2
SAMPLE_NONE, SAMPLE_SOFT, SAMPLE_HARD, SAMPLE_HARD_BERNOULLI = 0, 1, 2, 3
SAMPLE_GUMBEL_SOFT, SAMPLE_GUMBEL_HARD = 4, 5
OK, BAD_RANK, BAD_BASIS, BAD_SAMPLING, BAD_CANDIDATES, BAD_SHARED = 0, -1, -2, -3, -4, -5
MAX_CANDIDATES = 64  # BL_MAX_CANDIDATES
_ERRORS = {BAD_RANK: "rank must be 2, 4 or 6", BAD_BASIS: "unknown basis",
           BAD_SAMPLING: "unknown sampling mode",
           BAD_CANDIDATES: f"candidate pools must hold 1 to {MAX_CANDIDATES} inputs (and an "
                           f"exclusive routing has none)",
           BAD_SHARED: "shared must be >= 1 and divide the neuron count (1 for the lookup)"}

_p = ctypes.c_void_p
_i64 = ctypes.c_int64
_i32 = ctypes.c_int32


class LayerStruct(ctypes.Structure):
    """Mirror of ``bl_layer`` in ``csrc/train/train_layer.h``."""

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
        ("shared", _i64),
    ]


class RouteStruct(ctypes.Structure):
    """Mirror of ``bl_route`` in ``csrc/train/train_layer.h``."""

    _fields_ = [
        ("dxT", _p),
        ("scratch", _p),
        ("cand", _p),
        ("probs", _p),
        ("dprobs", _p),
        ("num_candidates", _i32),
        ("spread", _i32),
        ("exclusive", _i32),
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


ABI = {
    "BL_TRAIN_ABI_VERSION": ABI_VERSION,
    **native.struct_abi("bl_layer", LayerStruct),
    **native.struct_abi("bl_route", RouteStruct),
    "BL_BASIS_INDICATOR": BASIS_INDICATOR,
    "BL_BASIS_WALSH": BASIS_WALSH,
    "BL_BASIS_LINEAR": BASIS_LINEAR,
    "BL_SAMPLE_NONE": SAMPLE_NONE,
    "BL_SAMPLE_SOFT": SAMPLE_SOFT,
    "BL_SAMPLE_HARD": SAMPLE_HARD,
    "BL_SAMPLE_HARD_BERNOULLI": SAMPLE_HARD_BERNOULLI,
    "BL_SAMPLE_GUMBEL_SOFT": SAMPLE_GUMBEL_SOFT,
    "BL_SAMPLE_GUMBEL_HARD": SAMPLE_GUMBEL_HARD,
    "BL_OK": OK,
    "BL_BAD_RANK": BAD_RANK,
    "BL_BAD_BASIS": BAD_BASIS,
    "BL_BAD_SAMPLING": BAD_SAMPLING,
    "BL_BAD_CANDIDATES": BAD_CANDIDATES,
    "BL_BAD_SHARED": BAD_SHARED,
    "BL_MAX_CANDIDATES": MAX_CANDIDATES,
}

LIBRARY = native.Library(LIBRARY_NAME, SOURCES, _SIGNATURES, ABI)


def load() -> ctypes.CDLL | None:
    """The compiled training kernels with signatures set, or ``None`` when unavailable."""
    return LIBRARY.load()


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
    shared: int = 1,
) -> LayerStruct:
    """Describe one layer call; the tensors must outlive the kernel call.

    Args:
        xT: float32 ``(in_dim, batch)`` contiguous.
        selected: int32 ``(rank, out)`` contiguous.
        coeffs: float32 ``(out / shared, num_coeffs)`` contiguous.
        basis: ``BASIS_*``.
        sampling: ``SAMPLE_*``.
        temperature: sigmoid temperature.
        noiseT: float32 ``(out, batch)`` logistic noise, or ``None``.
        shared: consecutive neurons that read one coefficient row (the fold only).
    """
    return LayerStruct(
        rank=selected.shape[0], basis=basis, sampling=sampling, nthreads=num_threads(),
        batch=xT.shape[1], in_dim=xT.shape[0], out_dim=selected.shape[1],
        temperature=temperature, xT=ptr(xT), idx=ptr(selected), coeffs=ptr(coeffs),
        noiseT=ptr(noiseT), shared=shared,
    )
