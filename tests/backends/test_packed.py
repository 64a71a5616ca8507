"""PackedLogicNet (compiled kernel and NumPy fallback) against the reference, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from differential import (
    BATCH_SIZES,
    TIE_INPUTS,
    TIE_PREDICTIONS,
    netlists,
    random_inputs,
    random_netlist,
    tie_netlist,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitlogic.backends import PackedLogicNet
from bitlogic.backends.packed_native import choose_block_words
from bitlogic.backends.packed_numpy import pack_bits, unpack_bits
from bitlogic.backends.packed_program import build_program, truth_table_bits
from bitlogic.netlist import evaluate_netlist
from bitlogic.netlist.reference import encode_inputs, evaluate_layers, predict_from_counts

ENGINES = ["native-512", "native-256", "numpy"]


def make_engine(netlist, kind, **kwargs) -> PackedLogicNet:
    if kind == "numpy":
        return PackedLogicNet(netlist, use_native=False, **kwargs)
    return PackedLogicNet(netlist, use_native=True, block_samples=int(kind[7:]), **kwargs)


@pytest.fixture(params=ENGINES)
def engine_kind(request):
    if request.param.startswith("native"):
        request.getfixturevalue("native_engine")
    return request.param


def assert_matches_reference(netlist, x, engine):
    scores, counts = evaluate_netlist(netlist, x)
    np.testing.assert_array_equal(engine.counts(x), counts)
    got_scores = engine(x)
    assert got_scores.dtype == np.float32
    np.testing.assert_array_equal(got_scores, scores)
    np.testing.assert_array_equal(engine.predict(x), predict_from_counts(counts))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(netlist=netlists(), seed=st.integers(0, 1000))
def test_random_netlists_match_reference(engine_kind, netlist, seed):
    engine = make_engine(netlist, engine_kind)
    for batch in BATCH_SIZES:
        assert_matches_reference(netlist, random_inputs(netlist, batch, seed + batch), engine)


@pytest.mark.parametrize("batch", [255, 256, 257, 511, 512, 513, 1537, 4099])
@pytest.mark.parametrize("kind", ["native-512", "native-256"])
def test_block_boundaries(native_engine, kind, batch):
    # the kernel works in blocks of 512/256 samples split over threads; the tail is padded
    netlist = random_netlist(7, [300, 120, 60], [2, 6, 4], num_classes=6, num_inputs=130)
    x = random_inputs(netlist, batch, seed=batch)
    for threads in (1, 2, 3):
        assert_matches_reference(netlist, x, make_engine(netlist, kind, num_threads=threads))


def test_wide_encoded_net(engine_kind):
    # more than 64 input bits per feature row exercises several transpose chunks
    netlist = random_netlist(11, [200, 50], [6, 2], num_classes=10, encoding=(40, 5))
    engine = make_engine(netlist, engine_kind)
    assert_matches_reference(netlist, random_inputs(netlist, 700), engine)


def test_ties_go_to_the_lower_class(engine_kind):
    engine = make_engine(tie_netlist(), engine_kind)
    np.testing.assert_array_equal(engine.predict(TIE_INPUTS), TIE_PREDICTIONS)


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.float32, np.float64, np.int64, np.int8])
def test_bit_input_dtypes(engine_kind, dtype):
    netlist = random_netlist(2, [20, 9], [4, 2], num_classes=3)
    x = random_inputs(netlist, 130)
    engine = make_engine(netlist, engine_kind)
    np.testing.assert_array_equal(engine.counts(x.astype(dtype)), evaluate_netlist(netlist, x)[1])


@pytest.mark.parametrize(
    ("dtype", "bad"),
    [(np.uint8, 2), (np.float32, 0.5), (np.float32, -1), (np.float64, 2), (np.float64, 1e-50),
     (np.int64, -1), (np.int64, 2)],
)
def test_non_binary_bits_are_named(engine_kind, dtype, bad):
    netlist = random_netlist(2, [20, 9], [4, 2], num_classes=3)
    x = np.zeros((600, 16), dtype=dtype)
    x[555, 14] = bad  # past the first 512-sample block of the kernel
    with pytest.raises(ValueError, match=r"binary.*at \[555, 14\]"):
        make_engine(netlist, engine_kind).predict(x)


def test_nan_bits_are_rejected(engine_kind):
    netlist = random_netlist(2, [9], [2], num_classes=3)
    x = np.zeros((5, 16), dtype=np.float32)
    x[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"at \[3, 0\]"):
        make_engine(netlist, engine_kind)(x)


def test_torch_in_torch_out(engine_kind):
    netlist = random_netlist(4, [30, 12], [2, 6], num_classes=4, encoding=(5, 3))
    x = random_inputs(netlist, 100)
    engine = make_engine(netlist, engine_kind)
    scores = engine(torch.from_numpy(x))
    pred = engine.predict(torch.from_numpy(x).double())
    assert isinstance(scores, torch.Tensor) and scores.dtype == torch.float32
    assert isinstance(pred, torch.Tensor) and pred.dtype == torch.int64
    ref_scores, ref_counts = evaluate_netlist(netlist, x)
    np.testing.assert_array_equal(scores.numpy(), ref_scores)
    np.testing.assert_array_equal(pred.numpy(), predict_from_counts(ref_counts))


def test_torch_bfloat16_features(engine_kind):
    netlist = random_netlist(4, [30, 12], [2, 6], num_classes=4, encoding=(5, 3))
    x = torch.from_numpy(random_inputs(netlist, 50)).bfloat16()
    counts = make_engine(netlist, engine_kind).counts(x)
    np.testing.assert_array_equal(counts.numpy(), evaluate_netlist(netlist, x.float().numpy())[1])


def test_torch_bool_bits(engine_kind):
    netlist = random_netlist(4, [30, 12], [2, 6], num_classes=4)
    x = random_inputs(netlist, 70)
    counts = make_engine(netlist, engine_kind).counts(torch.from_numpy(x))
    np.testing.assert_array_equal(counts.numpy(), evaluate_netlist(netlist, x)[1])


def test_non_contiguous_input(engine_kind):
    netlist = random_netlist(4, [30, 12], [2, 6], num_classes=4)
    wide = random_inputs(netlist, 90)
    x = np.concatenate([wide, wide], axis=1)[:, ::2]
    np.testing.assert_array_equal(
        make_engine(netlist, engine_kind).counts(x), evaluate_netlist(netlist, x)[1]
    )


def test_shape_errors(engine_kind):
    engine = make_engine(random_netlist(0, [4], [2], num_classes=2), engine_kind)
    with pytest.raises(ValueError, match=r"shape \(batch, 16\)"):
        engine(np.zeros((3, 15), dtype=bool))
    with pytest.raises(ValueError, match=r"shape \(batch, 16\)"):
        engine(np.zeros(16, dtype=bool))


def test_empty_batch(engine_kind):
    engine = make_engine(random_netlist(0, [4], [2], num_classes=2), engine_kind)
    assert engine(np.zeros((0, 16), dtype=bool)).shape == (0, 2)
    assert engine.predict(np.zeros((0, 16), dtype=bool)).shape == (0,)


def test_rejects_non_netlists():
    with pytest.raises((TypeError, ValueError)):
        PackedLogicNet(42)
    with pytest.raises(ValueError, match="num_threads"):
        PackedLogicNet(random_netlist(0, [4], [2], num_classes=2), num_threads=0)


def test_backend_names(native_engine):
    netlist = random_netlist(0, [4], [2], num_classes=2)
    assert PackedLogicNet(netlist, use_native=True).backend.startswith("native-")
    assert PackedLogicNet(netlist, block_samples=256).backend.endswith("-256")
    assert PackedLogicNet(netlist, use_native=False).backend == "numpy"
    with pytest.raises(ValueError, match="block_samples"):
        PackedLogicNet(netlist, block_samples=128)


# -- the pieces of the packed layout -------------------------------------------------------


def test_block_size_follows_l2():
    assert choose_block_words(8000, 2 << 20) == 8  # 1 MiB of activations in a 2 MiB L2
    assert choose_block_words(8000, 1 << 20) == 4
    assert choose_block_words(16000, 2 << 20) == 4


def test_pack_unpack_round_trip():
    bits = np.random.default_rng(0).random((130, 7)) < 0.5
    words = pack_bits(bits)
    assert words.shape == (7, 3) and words.dtype == np.uint64
    assert int(words[2, 0]) & 1 == bits[0, 2]  # bit b of word w is sample 64 w + b
    assert (int(words[3, 2]) >> 1) & 1 == bits[129, 3]
    np.testing.assert_array_equal(unpack_bits(words, 130), bits)


def test_truth_table_bits():
    luts = np.array([[0, 1, 1, 0], [1, 0, 0, 0]], dtype=np.uint8)
    assert truth_table_bits(luts).tolist() == [0b0110, 0b0001]
    assert int(truth_table_bits(np.ones((1, 64), np.uint8))[0]) == 2**64 - 1


def test_storage_order_keeps_class_groups():
    netlist = random_netlist(9, [40, 30], [2, 2], num_classes=5)
    program = build_program(netlist)
    last = program.orders[-1]
    groups = last // netlist.group_size
    assert np.array_equal(groups, np.sort(groups))  # each class still contiguous
    assert sorted(last.tolist()) == list(range(30))
    codes = program.tt[program.lut_off[1]:][: 30]
    runs = program.runs[program.run_off[1] : program.run_off[2]]
    for code, start, end in runs:
        assert np.all(codes[start:end] == code)
    assert runs[0, 1] == 0 and runs[-1, 2] == 30


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(netlist=netlists(), seed=st.integers(0, 1000))
def test_last_bits_are_the_reference_last_layer(engine_kind, netlist, seed):
    engine = make_engine(netlist, engine_kind)
    width = netlist.layers[-1].n_out
    order = np.random.default_rng(seed).integers(0, width, size=2 * width + 1)
    for batch in BATCH_SIZES:
        x = random_inputs(netlist, batch, seed + batch)
        expected = evaluate_layers(netlist, encode_inputs(netlist, x))
        every = engine.last_bits(x)
        assert every.dtype == np.float32 and every.shape == (batch, width), f"seed {seed}"
        np.testing.assert_array_equal(every, expected, err_msg=f"seed {seed}")
        np.testing.assert_array_equal(engine.last_bits(x, order), expected[:, order],
                                      err_msg=f"seed {seed}")


@pytest.mark.parametrize("batch", [1, 255, 513])
def test_last_bits_of_grouped_rank2_outputs_keep_netlist_order(native_engine, batch):
    # the engine stores a rank-2 last layer sorted by function within each class
    netlist = random_netlist(5, [90, 60], [4, 2], num_classes=3, num_inputs=40)
    x = random_inputs(netlist, batch, seed=batch)
    expected = evaluate_layers(netlist, encode_inputs(netlist, x))
    for kind in ENGINES:
        got = make_engine(netlist, kind, num_threads=2).last_bits(torch.from_numpy(x))
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=f"{kind} batch {batch}")


def test_last_bits_rejects_bad_orders(engine_kind):
    netlist = random_netlist(2, [30, 12], [2, 2], num_classes=3, num_inputs=8)
    engine = make_engine(netlist, engine_kind)
    x = random_inputs(netlist, 5)
    for bad in ([12], [-1], [[0, 1]], [0.5]):
        with pytest.raises(ValueError, match=r"order must be 1-D integers in \[0, 12\)"):
            engine.last_bits(x, np.array(bad))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 8\)"):
        engine.last_bits(x[:, :7])
    assert engine.last_bits(x, np.array([], dtype=np.int64)).shape == (5, 0)
