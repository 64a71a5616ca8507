"""LogicNetlist: rules, persistence and the reference semantics."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from differential import TIE_INPUTS, TIE_PREDICTIONS, random_netlist, tie_netlist
from safetensors.numpy import load_file, save_file

from bitlogic.netlist import (
    NETLIST_HEADER_KEY,
    InputEncoding,
    LogicNetlist,
    NetlistLayer,
    evaluate_netlist,
    is_netlist_file,
)
from bitlogic.netlist.file_format import open_safetensors
from bitlogic.netlist.reference import encode_inputs, predict_from_counts


def small_netlist() -> LogicNetlist:
    return random_netlist(3, widths=[6, 4], ranks=[2, 4], num_classes=2, encoding=(3, 2))


# -- validate() --------------------------------------------------------------------


def _bad_index(net):
    net.layers[1].indices[0, 1] = 6  # previous layer has width 6


def _negative_index(net):
    net.layers[0].indices[2, 0] = -1


def _lut_value(net):
    net.layers[0].luts[1, 3] = 2


def _index_dtype(net):
    net.layers[0].indices = net.layers[0].indices.astype(np.int64)


def _lut_dtype(net):
    net.layers[1].luts = net.layers[1].luts.astype(bool)


def _lut_shape(net):
    net.layers[1].luts = net.layers[1].luts[:, :8]


def _rank_too_big(net):
    net.layers[0] = NetlistLayer(np.zeros((6, 7), np.int32), np.zeros((6, 128), np.uint8))


def _not_divisible(net):
    net.num_classes = 3


def _tau_zero(net):
    net.tau = 0.0


def _tau_nan(net):
    net.tau = float("nan")


def _thresholds_descending(net):
    net.encoding.thresholds[1] = [0.5, -0.5]


def _thresholds_inf(net):
    net.encoding.thresholds[0, 1] = np.inf


def _thresholds_dtype(net):
    net.encoding.thresholds = net.encoding.thresholds.astype(np.float64)


def _inputs_mismatch(net):
    net.num_inputs = 7


def _no_layers(net):
    net.layers = []


def _metadata(net):
    net.metadata = {"k": 3}


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        (_bad_index, r"layers\[1\]\.indices\[0, 1\] = 6 is out of range.*width 6"),
        (_negative_index, r"layers\[0\]\.indices\[2, 0\] = -1"),
        (_lut_value, r"values must be 0 or 1, got 2"),
        (_index_dtype, r"indices must be an int32"),
        (_lut_dtype, r"luts must be a uint8"),
        (_lut_shape, r"luts must have shape"),
        (_rank_too_big, r"rank must be in 1..6, got 7"),
        (_not_divisible, r"width 4 is not divisible by num_classes=3"),
        (_tau_zero, r"tau must be a finite number > 0"),
        (_tau_nan, r"tau must be a finite number > 0"),
        (_thresholds_descending, r"ascending.*feature 1"),
        (_thresholds_inf, r"must be finite"),
        (_thresholds_dtype, r"float32"),
        (_inputs_mismatch, r"num_inputs=7 does not match"),
        (_no_layers, r"non-empty list"),
        (_metadata, r"metadata must be a dict\[str, str\]"),
    ],
)
def test_validate_names_the_broken_rule(breaks, message):
    net = small_netlist()
    net.validate()
    breaks(net)
    with pytest.raises(ValueError, match=message):
        net.validate()


def test_equal_thresholds_are_allowed():
    net = small_netlist()
    net.encoding.thresholds[0] = [0.25, 0.25]
    assert net.validate() is net


def test_sizes():
    net = random_netlist(0, widths=[10, 8, 6], ranks=[2, 6, 2], num_classes=3, num_inputs=9)
    assert net.num_gates == 24
    assert net.lut_counts_by_rank == {2: 16, 6: 8}
    assert net.input_width == 9
    assert net.group_size == 2
    assert small_netlist().input_width == 3


def test_repr_is_one_line_of_sizes():
    net = random_netlist(0, widths=[10, 8, 6], ranks=[2, 6, 2], num_classes=3, num_inputs=9)
    assert repr(net) == ("LogicNetlist(9 input bits, 3 layers, LUTs by rank {2: 16, 6: 8}, "
                         "3 classes x 2, tau 1.7)")
    assert repr(small_netlist()) == ("LogicNetlist(encoding 3 features x 2 thresholds, 2 layers, "
                                     "LUTs by rank {2: 6, 4: 4}, 2 classes x 2, tau 1.7)")


# -- save / load -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", [None, (4, 3)])
def test_save_load_round_trip(tmp_path, encoding):
    net = random_netlist(1, [12, 10], [6, 1], num_classes=5, encoding=encoding, tau=0.1)
    net.metadata["parametrization"] = "warp; rank 6"
    path = net.save(tmp_path / "net.safetensors")
    loaded = LogicNetlist.load(path)
    assert loaded == net
    assert loaded.tau == net.tau  # exact, not approximately
    assert loaded != small_netlist()


def test_equality_compares_arrays():
    net = small_netlist()
    other = copy.deepcopy(net)
    assert other == net
    other.layers[1].luts[0, 0] ^= 1
    assert other != net
    other = copy.deepcopy(net)
    other.encoding = None
    assert other != net


def _rewrite_header(path, **changes):
    tensors = load_file(path)
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        header = json.loads(f.metadata()["bitlogic"])
    header.update(changes)
    save_file(tensors, str(path), metadata={"bitlogic": json.dumps(header)})


def test_load_rejects_newer_version(tmp_path):
    path = small_netlist().save(tmp_path / "n.safetensors")
    _rewrite_header(path, version=LogicNetlist.FORMAT_VERSION + 1)
    newest = LogicNetlist.FORMAT_VERSION
    with pytest.raises(ValueError, match=f"version {newest + 1}.*reads up to version {newest}"):
        LogicNetlist.load(path)


def test_load_rejects_unknown_format(tmp_path):
    path = small_netlist().save(tmp_path / "n.safetensors")
    _rewrite_header(path, format="something-else")
    with pytest.raises(ValueError, match="unknown format 'something-else'"):
        LogicNetlist.load(path)


def test_load_rejects_plain_safetensors(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(path))
    with pytest.raises(ValueError, match="not a bitlogic netlist"):
        LogicNetlist.load(path)


def test_is_netlist_file(tmp_path):
    path = small_netlist().save(tmp_path / "n.safetensors")
    assert is_netlist_file(path)
    plain = tmp_path / "weights.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(plain))
    assert not is_netlist_file(plain)
    other = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(other),
              metadata={NETLIST_HEADER_KEY: json.dumps({"format": "something-else"})})
    assert not is_netlist_file(other)
    text = tmp_path / "notes.txt"
    text.write_text("not safetensors")
    assert not is_netlist_file(text)
    assert not is_netlist_file(tmp_path / "missing.safetensors")


def test_open_safetensors_names_the_bad_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(path), metadata={"k": "v"})
    with open_safetensors(path) as f:
        assert f.metadata() == {"k": "v"} and list(f.keys()) == ["w"]
    text = tmp_path / "notes.txt"
    text.write_text("not safetensors")
    with pytest.raises(ValueError, match=r"notes\.txt is not a safetensors thing \(.+\)"), \
            open_safetensors(text, "safetensors thing"):
        pass
    with pytest.raises(ValueError, match=r"w\.safetensors is not a readable safetensors file"), \
            open_safetensors(path) as f:
        f.get_tensor("absent")  # a failed read inside the block names the file too
    with pytest.raises(FileNotFoundError), open_safetensors(tmp_path / "missing.safetensors"):
        pass


def test_load_validates(tmp_path):
    path = small_netlist().save(tmp_path / "n.safetensors")
    tensors = load_file(path)
    tensors["layers.0.indices"][0, 0] = 99
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        metadata = f.metadata()
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ValueError, match="out of range"):
        LogicNetlist.load(path)


# -- reference semantics --------------------------------------------------------------


def test_addressing_is_msb_first():
    # table 0011: output is 1 exactly when input 0 (the MSB) is 1
    layer = NetlistLayer(np.array([[0, 1]], np.int32), np.array([[0, 0, 1, 1]], np.uint8))
    net = LogicNetlist(2, [layer], num_classes=1, tau=1.0)
    _, counts = evaluate_netlist(net, np.array([[1, 0], [0, 1]]))
    assert counts[:, 0].tolist() == [1, 0]


def test_thermometer_is_strict_float32_comparison():
    thresholds = np.array([[0.1, 0.5, 0.5]], dtype=np.float32)
    net = LogicNetlist(3, [NetlistLayer(np.arange(3, dtype=np.int32)[:, None],
                                        np.tile(np.array([[0, 1]], np.uint8), (3, 1)))],
                       num_classes=3, tau=1.0, encoding=InputEncoding(thresholds))
    x = np.array([[0.5], [0.1], [np.float64(0.1)], [np.nan], [np.inf]])
    bits = encode_inputs(net, x)
    # float64 0.1 rounds to float32 0.1, which is not > float32 0.1
    assert bits.astype(int).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1]]


def test_scores_are_counts_over_tau_in_float32():
    net = random_netlist(5, [9], [2], num_classes=3, tau=0.3)
    scores, counts = evaluate_netlist(net, np.ones((4, 16), dtype=bool))
    assert scores.dtype == np.float32
    np.testing.assert_array_equal(scores, counts.astype(np.float32) / np.float32(0.3))


def test_ties_go_to_the_lower_class():
    _, counts = evaluate_netlist(tie_netlist(), TIE_INPUTS)
    assert counts.tolist() == [[0, 1, 1, 0], [0, 0, 0, 0], [0, 1, 1, 2], [0, 0, 0, 1]]
    np.testing.assert_array_equal(predict_from_counts(counts), TIE_PREDICTIONS)


@pytest.mark.parametrize("bad", [2, 0.5, -1, np.nan])
def test_non_binary_input_is_named(bad):
    x = np.zeros((3, 16))
    x[2, 5] = bad
    net = random_netlist(0, [4], [2], num_classes=2)
    with pytest.raises(ValueError, match=r"binary.*at \[2, 5\]"):
        evaluate_netlist(net, x)


def test_wrong_width_is_rejected():
    with pytest.raises(ValueError, match=r"shape \(batch, 16\)"):
        evaluate_netlist(random_netlist(0, [4], [2], num_classes=2), np.zeros((3, 15)))
