"""2-bit packing and the packed C kernel: bit-exact against the PyTorch reference."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bitlogic import native
from bitlogic.ternary import kernel as tk
from bitlogic.ternary.functional import bitlinear_python
from bitlogic.ternary.packing import pack_ternary, packed_row_bytes, unpack_ternary
from bitlogic.ternary.quantize import quantize_activations, weight_to_ternary

LIB = tk.load_ternary_library()
needs_native = pytest.mark.skipif(LIB is None, reason="ternary C kernel could not be built")


def random_problem(out, inp, batch, seed, bias=True, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    T, gamma = weight_to_ternary(torch.randn(out, inp, generator=g), per_channel=True)
    x = torch.randn(batch, inp, generator=g) * scale
    b = torch.randn(out, generator=g) if bias else None
    return x, T, gamma, b


def reference(x, T, gamma, b, bits):
    """bitlinear_python on the very same integer codes and scales."""
    codes, step = quantize_activations(x, bits)
    return bitlinear_python(codes, T, step * gamma, b)


# ---------------------------------------------------------------- packing ----


@settings(max_examples=30, deadline=None)
@given(out=st.integers(1, 9), inp=st.integers(1, 600), seed=st.integers(0, 2**31 - 1))
def test_pack_unpack_round_trip(out, inp, seed):
    T = torch.randint(-1, 2, (out, inp), generator=torch.Generator().manual_seed(seed))
    packed = pack_ternary(T)
    assert packed.dtype == torch.uint8
    assert packed.shape == (out, packed_row_bytes(inp)) == (out, -(-inp // 256) * 64)
    assert torch.equal(unpack_ternary(packed, inp), T.to(torch.int8))


def test_pack_layout_is_the_documented_one():
    # Weight at block position j*64 + b lands in byte b, bits 2j..2j+1, as code w + 1.
    T = torch.zeros(1, 300)
    T[0, 0] = 1  # byte 0, field 0 -> 0b10
    T[0, 64 + 5] = -1  # byte 5, field 1 -> 0b00
    T[0, 192 + 63] = 1  # byte 63, field 3 -> 0b10
    T[0, 256 + 1] = -1  # second block, byte 1, field 0 -> 0b00
    packed = pack_ternary(T)[0]
    assert packed[0].item() == 0b01_01_01_10
    assert packed[5].item() == 0b01_01_00_01
    assert packed[63].item() == 0b10_01_01_01
    assert packed[64 + 1].item() == 0b01_01_01_00
    # Padding (positions 300..511) and untouched weights are code 01 (zero).
    assert packed[64 + 63].item() == 0b01_01_01_01


def test_pack_and_unpack_reject_bad_input():
    with pytest.raises(ValueError, match="only the values -1, 0 and \\+1"):
        pack_ternary(torch.tensor([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="non-empty 2-D"):
        pack_ternary(torch.zeros(4))
    with pytest.raises(TypeError, match="T must be a torch.Tensor, got list"):
        pack_ternary([[1, 0]])
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        packed_row_bytes(0)
    with pytest.raises(ValueError, match=r"packed must have shape \[out_features, 64\]"):
        unpack_ternary(torch.zeros(2, 128, dtype=torch.uint8), 10)
    with pytest.raises(ValueError, match="invalid 2-bit code"):
        unpack_ternary(torch.full((1, 64), 0xFF, dtype=torch.uint8), 256)
    with pytest.raises(TypeError, match="packed must be a uint8"):
        unpack_ternary(torch.zeros(1, 64), 256)


# ------------------------------------------------------- kernel exactness ----


@needs_native
@settings(max_examples=60, deadline=None)
@given(
    out=st.integers(1, 40),
    inp=st.one_of(st.integers(1, 70), st.integers(250, 1100)),
    batch=st.sampled_from([1, 2, 3, 5, 32]),
    bits=st.sampled_from([8, 8, 4, 2]),
    bias=st.booleans(),
    scale=st.sampled_from([1e-7, 1.0, 1e4]),
    seed=st.integers(0, 2**31 - 1),
)
def test_native_equals_reference_bit_exactly(out, inp, batch, bits, bias, scale, seed):
    x, T, gamma, b = random_problem(out, inp, batch, seed, bias, scale)
    packed = pack_ternary(T)
    compiled = tk.packed_ternary_linear(x, packed, gamma, b, inp, bits, backend="native")
    fallback = tk.packed_ternary_linear(x, packed, gamma, b, inp, bits, backend="torch")
    expected = reference(x, T, gamma, b, bits)
    assert torch.equal(compiled, expected)
    assert torch.equal(fallback, expected)


@needs_native
@settings(max_examples=30, deadline=None)
@given(
    out=st.integers(1, 37),
    inp=st.integers(1, 1300),
    batch=st.sampled_from([1, 3, 32]),
    seed=st.integers(0, 2**31 - 1),
)
def test_native_integer_accumulators_and_codes(out, inp, batch, seed):
    x, T, _, _ = random_problem(out, inp, batch, seed)
    packed = pack_ternary(T)
    codes, step, sums = tk.native_quantize(LIB, x, 8, packed.shape[1])
    ref_codes, ref_step = quantize_activations(x, 8)
    assert torch.equal(codes[:, :inp].float(), ref_codes)
    assert not codes[:, inp:].any()
    assert torch.equal(step, ref_step.squeeze(1))
    assert torch.equal(sums, ref_codes.sum(dim=1).to(torch.int32))
    acc = tk.native_accumulate(LIB, codes, sums, packed)
    exact = ref_codes.to(torch.int64) @ T.to(torch.int64).t()
    assert torch.equal(acc.to(torch.int64), exact)


@needs_native
def test_native_is_independent_of_thread_count():
    x, T, gamma, b = random_problem(300, 2000, 7, seed=3)
    packed = pack_ternary(T)
    one = tk.packed_ternary_linear(x, packed, gamma, b, 2000, num_threads=1, backend="native")
    two = tk.packed_ternary_linear(x, packed, gamma, b, 2000, num_threads=2, backend="native")
    three = tk.packed_ternary_linear(x, packed, gamma, b, 2000, num_threads=3, backend="native")
    assert torch.equal(one, two) and torch.equal(one, three)
    assert torch.equal(one, reference(x, T, gamma, b, 8))


@needs_native
@pytest.mark.parametrize(
    ("flags", "level"),
    [(("-mno-avx512f",), None), (("-mno-avx512f", "-mno-avxvnni"), 1), (("-mno-avx2",), 0)],
    ids=["avx2-best", "avx2-plain", "scalar"],
)
def test_every_simd_path_matches_reference(flags, level):
    if LIB.tern_simd_level() == 0 and level != 0:
        pytest.skip("this CPU has no AVX2; only the scalar path can run")
    lib = native.Library(
        "ternary_test", tk.SOURCES, tk.SIGNATURES, tk.ABI, flags=native.DEFAULT_FLAGS + flags
    ).require()
    if level is not None:
        assert lib.tern_simd_level() == level
    for out, inp, batch in [(1, 1, 1), (6, 300, 3), (37, 1030, 5), (64, 512, 32)]:
        x, T, gamma, b = random_problem(out, inp, batch, seed=out + inp)
        packed = pack_ternary(T)
        codes, step, sums = tk.native_quantize(lib, x, 8, packed.shape[1])
        y = torch.empty(batch, out)
        lib.tern_gemm_f32(
            packed.data_ptr(),
            out,
            packed.shape[1] // 64,
            codes.data_ptr(),
            sums.data_ptr(),
            step.data_ptr(),
            batch,
            gamma.data_ptr(),
            b.data_ptr(),
            y.data_ptr(),
            2,
        )
        assert torch.equal(y, reference(x, T, gamma, b, 8)), (flags, out, inp, batch)


# ------------------------------------------------------------- fallback ----


def test_fallback_through_environment_matches_native(monkeypatch):
    x, T, gamma, b = random_problem(21, 333, 3, seed=11)
    packed = pack_ternary(T)
    expected = reference(x, T, gamma, b, 8)
    compiled = tk.packed_ternary_linear(x, packed, gamma, b, 333)
    assert torch.equal(compiled, expected)
    # A fresh declaration decides again; monkeypatch restores the loaded one afterwards.
    monkeypatch.setenv("BITLOGIC_NO_NATIVE", "1")
    monkeypatch.setattr(tk, "LIBRARY", native.Library(tk.LIBRARY_NAME, tk.SOURCES,
                                                      tk.SIGNATURES, tk.ABI))
    with pytest.warns(RuntimeWarning, match="BITLOGIC_NO_NATIVE"):
        assert tk.load_ternary_library() is None
    assert tk.simd_name(None) == "torch"
    fallback = tk.packed_ternary_linear(x, packed, gamma, b, 333)
    assert torch.equal(fallback, expected)
    with pytest.raises(RuntimeError, match="unavailable"):
        tk.packed_ternary_linear(x, packed, gamma, b, 333, backend="native")


def test_large_fan_in_stays_exact_in_the_fallback():
    # 140_000 * 127 > 2**24: float32 sums would round, so the fallback uses float64.
    x, T, gamma, _ = random_problem(2, 140_000, 1, seed=5)
    codes, step = quantize_activations(x, 8)
    packed = pack_ternary(T)
    y = tk.packed_ternary_linear(x, packed, gamma, None, 140_000, backend="torch")
    exact = (codes.to(torch.int64) @ T.to(torch.int64).t()).float()
    assert torch.equal(y, exact * (step * gamma))
    if LIB is not None:
        assert torch.equal(tk.packed_ternary_linear(x, packed, gamma, None, 140_000), y)


def test_packed_ternary_linear_bad_arguments():
    x, T, gamma, b = random_problem(4, 10, 2, seed=0)
    packed = pack_ternary(T)
    call = tk.packed_ternary_linear
    with pytest.raises(ValueError, match="backend must be one of"):
        call(x, packed, gamma, b, 10, backend="cuda")
    with pytest.raises(ValueError, match=r"bits must be an int in \[2, 8\], got 9"):
        call(x, packed, gamma, b, 10, bits=9)
    with pytest.raises(TypeError, match="x must be a float32"):
        call(x.double(), packed, gamma, b, 10)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 10\]"):
        call(x[:, :5], packed, gamma, b, 10)
    with pytest.raises(ValueError, match=r"gamma must be float32 \[4\]"):
        call(x, packed, gamma[:3], b, 10)
    with pytest.raises(ValueError, match=r"bias must be float32 \[4\]"):
        call(x, packed, gamma, b.double(), 10)
    with pytest.raises(ValueError, match="packed must be uint8"):
        call(x, packed[:, :32], gamma, b, 10)
    with pytest.raises(ValueError, match="num_threads must be None or an int >= 1"):
        call(x, packed, gamma, b, 10, num_threads=0)


@needs_native
def test_native_backend_rejects_non_cpu_tensors():
    x, T, gamma, b = random_problem(4, 10, 2, seed=0)
    with pytest.raises(ValueError, match="CPU tensors only"):
        tk.packed_ternary_linear(x.to("meta"), pack_ternary(T), gamma, b, 10, backend="native")
