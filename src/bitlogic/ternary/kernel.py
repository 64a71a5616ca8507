"""Packed ternary linear: the C kernel (``csrc/ternary/ternary.c``) and its PyTorch twin.

:func:`packed_ternary_linear` computes, for float32 input ``x`` ``[N, in]``,

    codes, step = quantize_activations(x, bits)              # int8 codes
    acc = codes @ unpack_ternary(packed)^T                   # int32, exact
    y   = acc * (step * gamma) + bias                        # float32

either in C (2-bit weights, int8 activations, VNNI/AVX2/scalar, OpenMP) or,
when the compiled library is unavailable, with the same formulas in PyTorch.
Both give bit-identical results, equal to
``bitlinear_python(codes, T, step * gamma, bias)``.
"""

from __future__ import annotations

import ctypes

import torch

from bitlogic import native

from .integer import exact_ternary_matmul, scale_accumulators
from .packing import BLOCK_BYTES, BLOCK_WEIGHTS, packed_row_bytes, unpack_ternary
from .quantize import activation_qmax, quantize_activations

LIBRARY_NAME = "ternary"
SOURCES = ["ternary/ternary.c"]
ABI_VERSION = 1  # TERN_ABI_VERSION
#: int8 activation codes: the native kernel supports at most 8 activation bits.
MAX_NATIVE_BITS = 8
SIMD_NAMES = {0: "scalar", 1: "avx2", 2: "avx2+avx-vnni", 3: "avx512-vnni"}
BACKENDS = ("auto", "native", "torch")

_P = ctypes.c_void_p
_I64 = ctypes.c_int64
SIGNATURES = {
    "tern_simd_level": (ctypes.c_int, []),
    "tern_quantize_rows": (None, [_P, _I64, _I64, _I64, ctypes.c_float, _P, _P, _P, ctypes.c_int]),
    "tern_gemm_f32": (None, [_P, _I64, _I64, _P, _P, _P, _I64, _P, _P, _P, ctypes.c_int]),
    "tern_gemm_i32": (None, [_P, _I64, _I64, _P, _P, _I64, _P, ctypes.c_int]),
    "tern_linear_f32": (
        ctypes.c_int,
        [_P, _I64, _I64, ctypes.c_float, _P, _I64, _I64, _P, _P, _P, ctypes.c_int],
    ),
}
ABI = {"TERN_ABI_VERSION": ABI_VERSION, "BLOCK_W": BLOCK_WEIGHTS, "BLOCK_B": BLOCK_BYTES}

LIBRARY = native.Library(LIBRARY_NAME, SOURCES, SIGNATURES, ABI)


def load_ternary_library() -> ctypes.CDLL | None:
    """The compiled kernel (built on first use and cached), or ``None`` if unavailable."""
    return LIBRARY.load()


def simd_name(lib: ctypes.CDLL | None) -> str:
    """Which code path a library was compiled with (``"torch"`` when ``lib`` is ``None``)."""
    return "torch" if lib is None else SIMD_NAMES[lib.tern_simd_level()]


def _ptr(t: torch.Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


def _threads(num_threads: int | None) -> int:
    if num_threads is None:
        return torch.get_num_threads()
    if not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1:
        raise ValueError(f"num_threads must be None or an int >= 1, got {num_threads!r}")
    return num_threads


def native_quantize(
    lib: ctypes.CDLL, x: torch.Tensor, bits: int, row_bytes: int, num_threads: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Quantize ``x`` ``[N, in]`` (float32, contiguous) per token in C.

    Returns:
        ``(codes, step, code_sums)``: int8 ``[N, 4 * row_bytes]`` (zero padded),
        float32 ``[N]`` and int32 ``[N]``.
    """
    rows, cols = x.shape
    ldq = 4 * row_bytes
    codes = torch.empty(rows, ldq, dtype=torch.int8)
    step = torch.empty(rows, dtype=torch.float32)
    sums = torch.empty(rows, dtype=torch.int32)
    lib.tern_quantize_rows(
        _ptr(x),
        rows,
        cols,
        ldq,
        float(activation_qmax(bits)),
        _ptr(codes),
        _ptr(step),
        _ptr(sums),
        _threads(num_threads),
    )
    return codes, step, sums


def native_accumulate(
    lib: ctypes.CDLL,
    codes: torch.Tensor,
    code_sums: torch.Tensor,
    packed: torch.Tensor,
    num_threads: int | None = None,
) -> torch.Tensor:
    """Exact int32 dot products ``codes @ T^T`` from the C kernel (for testing and tools).

    Args:
        lib: Library from :func:`load_ternary_library`.
        codes: int8 ``[N, 4 * row_bytes]`` from :func:`native_quantize`.
        code_sums: int32 ``[N]`` row sums of ``codes``.
        packed: uint8 ``[out, row_bytes]``.
    """
    out = torch.empty(codes.shape[0], packed.shape[0], dtype=torch.int32)
    lib.tern_gemm_i32(
        _ptr(packed),
        packed.shape[0],
        packed.shape[1] // BLOCK_BYTES,
        _ptr(codes),
        _ptr(code_sums),
        codes.shape[0],
        _ptr(out),
        _threads(num_threads),
    )
    return out


def _check_args(x, packed, gamma, bias, in_features, bits) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype != torch.float32:
        raise TypeError(f"x must be a float32 torch.Tensor, got {x!r:.60}")
    if x.dim() != 2 or x.shape[1] != in_features:
        raise ValueError(f"x must have shape [N, {in_features}], got {tuple(x.shape)}")
    row_bytes = packed_row_bytes(in_features)
    if packed.dtype != torch.uint8 or packed.dim() != 2 or packed.shape[1] != row_bytes:
        raise ValueError(
            f"packed must be uint8 [out, {row_bytes}] for in_features={in_features}, "
            f"got {packed.dtype} {tuple(packed.shape)}"
        )
    out = packed.shape[0]
    if gamma.dtype != torch.float32 or tuple(gamma.shape) != (out,):
        raise ValueError(f"gamma must be float32 [{out}], got {gamma.dtype} {tuple(gamma.shape)}")
    if bias is not None and (bias.dtype != torch.float32 or tuple(bias.shape) != (out,)):
        raise ValueError(f"bias must be float32 [{out}], got {bias.dtype} {tuple(bias.shape)}")
    if not isinstance(bits, int) or isinstance(bits, bool) or not 2 <= bits <= MAX_NATIVE_BITS:
        raise ValueError(f"bits must be an int in [2, {MAX_NATIVE_BITS}], got {bits!r}")


def packed_ternary_linear_torch(
    x: torch.Tensor,
    packed: torch.Tensor,
    gamma: torch.Tensor,
    bias: torch.Tensor | None,
    in_features: int,
    bits: int = 8,
) -> torch.Tensor:
    """Pure-PyTorch packed forward, the fallback; arguments as :func:`packed_ternary_linear`."""
    _check_args(x, packed, gamma, bias, in_features, bits)
    codes, step = quantize_activations(x, bits)
    T = unpack_ternary(packed, in_features)
    acc = exact_ternary_matmul(codes, T, activation_qmax(bits))
    return scale_accumulators(acc, step, gamma, bias)


def packed_ternary_linear(
    x: torch.Tensor,
    packed: torch.Tensor,
    gamma: torch.Tensor,
    bias: torch.Tensor | None,
    in_features: int,
    bits: int = 8,
    num_threads: int | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    """Ternary linear layer on 2-bit packed weights with int8 per-token activations.

    Args:
        x: float32 input ``[N, in_features]`` (CPU).
        packed: uint8 weights ``[out_features, packed_row_bytes(in_features)]``
            (:func:`~bitlogic.ternary.packing.pack_ternary`).
        gamma: float32 weight scales ``[out_features]``.
        bias: float32 ``[out_features]`` or ``None``.
        in_features: Unpadded input width.
        bits: Activation bits, in ``[2, 8]``.
        num_threads: OpenMP threads for the C kernel; ``None`` follows
            ``torch.get_num_threads()``.
        backend: ``"auto"`` (C when available, else PyTorch), ``"native"``
            (C or ``RuntimeError``) or ``"torch"``.

    Returns:
        float32 ``[N, out_features]``.

    Raises:
        TypeError: ``x`` is not float32.
        ValueError: shapes/dtypes disagree, ``bits`` or ``backend`` is not allowed.
        RuntimeError: ``backend="native"`` but the library could not be built.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    threads = _threads(num_threads)
    lib = None if backend == "torch" else load_ternary_library()
    if lib is None:
        if backend == "native":
            raise RuntimeError("backend='native' requested but the ternary C kernel is unavailable")
        return packed_ternary_linear_torch(x, packed, gamma, bias, in_features, bits)
    _check_args(x, packed, gamma, bias, in_features, bits)
    if any(t is not None and t.device.type != "cpu" for t in (x, packed, gamma, bias)):
        raise ValueError("the native ternary kernel runs on CPU tensors only; use backend='torch'")
    x, packed, gamma = x.contiguous(), packed.contiguous(), gamma.contiguous()
    bias = None if bias is None else bias.contiguous()
    y = torch.empty(x.shape[0], packed.shape[0], dtype=torch.float32)
    status = lib.tern_linear_f32(
        _ptr(x),
        x.shape[0],
        in_features,
        float(activation_qmax(bits)),
        _ptr(packed),
        packed.shape[0],
        packed.shape[1] // BLOCK_BYTES,
        _ptr(gamma),
        _ptr(bias),
        _ptr(y),
        threads,
    )
    if status != 0:
        raise MemoryError("the ternary kernel could not allocate its activation scratch buffer")
    return y
