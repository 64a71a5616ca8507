"""Hostile netlist files and hostile inputs to the netlist's interpreters and backends.

Finding 5: a 35 KB netlist whose header claimed ``num_layers = 10**9`` made
``bitlogic info`` run 33 s and reach 4.4 GB. Every count in a header is now
checked against the tensors present before anything is allocated.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np
import pytest
from hostile import CORRUPTIONS, clear_error, small_netlist
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from bitlogic.backends import PackedLogicNet, emit_c
from bitlogic.netlist import NETLIST_HEADER_KEY, LogicNetlist, evaluate_netlist


@pytest.fixture
def netlist_file(tmp_path) -> Path:
    return small_netlist().save(tmp_path / "net.safetensors")


def rewrite(path: Path, header_edit=None, tensor_edit=None) -> Path:
    """Re-save ``path`` with its header and tensors edited (a hand-crafted hostile file)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        header = json.loads(f.metadata()[NETLIST_HEADER_KEY])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    if header_edit is not None:
        header_edit(header)
    if tensor_edit is not None:
        tensor_edit(tensors)
    save_file(tensors, str(path), metadata={NETLIST_HEADER_KEY: json.dumps(header)})
    return path


def test_ok_round_trip(netlist_file):
    assert LogicNetlist.load(netlist_file) == small_netlist()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS), ids=lambda c: f"error-netlist-{c}")
def test_corrupt_netlist_file_names_the_file(netlist_file, corruption):
    CORRUPTIONS[corruption](netlist_file)
    clear_error(lambda: LogicNetlist.load(netlist_file), ValueError, "net.safetensors")


def _set(key, value):
    return lambda h: h.__setitem__(key, value)


HEADERS = {
    "num_layers-10**9": (_set("num_layers", 10**9), r"claims 1000000000 layers"),
    "num_layers-negative": (_set("num_layers", -1), r"'num_layers' must be an int >= 1"),
    "num_layers-string": (_set("num_layers", "2"), r"'num_layers' must be an int"),
    "num_layers-float": (_set("num_layers", 2.0), r"'num_layers' must be an int"),
    "num_inputs-missing": (lambda h: h.pop("num_inputs"), r"'num_inputs' must be an int"),
    "num_inputs-10**15": (_set("num_inputs", 10**15), r"num_inputs|encoding"),
    "num_classes-zero": (_set("num_classes", 0), r"'num_classes' must be an int >= 1"),
    "num_classes-huge": (_set("num_classes", 10**12), r"divisible by num_classes"),
    "tau-string": (_set("tau", "x"), r"'tau' must be a number"),
    "tau-nan": (_set("tau", float("nan")), r"tau must be a finite number > 0"),
    "version-99": (_set("version", 99), r"version 99.*upgrade bitlogic"),
    "version-string": (_set("version", "1"), r"version '1'"),
    "format-foreign": (_set("format", "onnx"), r"unknown format 'onnx'"),
    "metadata-list": (_set("metadata", [1]), r"'metadata' must be a JSON object"),
    "metadata-non-string": (_set("metadata", {"a": 1}), r"metadata must be a dict\[str, str\]"),
}


@pytest.mark.parametrize("case", list(HEADERS), ids=lambda c: f"error-header-{c}")
def test_hostile_header_is_refused_before_allocating(netlist_file, case):
    edit, message = HEADERS[case]
    rewrite(netlist_file, header_edit=edit)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    clear_error(lambda: LogicNetlist.load(netlist_file), ValueError, message)
    assert time.perf_counter() - started < 2.0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"loading allocated {grown_mb:.0f} MB"


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "null"],
                         ids=lambda r: f"error-header-raw-{r}")
def test_header_that_is_not_a_json_object(tmp_path, raw):
    path = tmp_path / "net.safetensors"
    save_file({"layers.0.luts": np.zeros((2, 4), np.uint8)}, str(path),
              metadata={NETLIST_HEADER_KEY: raw})
    clear_error(lambda: LogicNetlist.load(path), ValueError, "header", "JSON")


def _tensor(key, fn):
    return lambda t: t.__setitem__(key, fn(t[key]))


TENSORS = {
    "indices-float": (_tensor("layers.0.indices", lambda a: a.astype(np.float32)), "indices"),
    "indices-out-of-range": (_tensor("layers.0.indices", lambda a: a + 100), r"indices|range"),
    "indices-negative": (_tensor("layers.1.indices", lambda a: a - 10), r"indices|range"),
    "luts-wrong-width": (_tensor("layers.0.luts", lambda a: a[:, :3].copy()), "luts"),
    "luts-not-binary": (_tensor("layers.0.luts", lambda a: a * 7), "luts"),
    "luts-float": (_tensor("layers.1.luts", lambda a: a.astype(np.float64)), "luts"),
    "indices-3d": (_tensor("layers.0.indices", lambda a: a[None]), "indices"),
    "thresholds-nan": (_tensor("encoding.thresholds", lambda a: a * np.nan), "thresholds"),
    "thresholds-wrong-shape": (_tensor("encoding.thresholds", lambda a: a[:3].copy()),
                               r"num_inputs|thresholds"),
    "extra-tensor": (lambda t: t.__setitem__("evil", np.zeros(3, np.uint8)), "do not match"),
    "missing-tensor": (lambda t: t.pop("layers.1.luts"), "do not match"),
}


@pytest.mark.parametrize("case", list(TENSORS), ids=lambda c: f"error-tensor-{c}")
def test_hostile_tensor_is_refused(netlist_file, case):
    edit, message = TENSORS[case]
    rewrite(netlist_file, tensor_edit=edit)
    clear_error(lambda: LogicNetlist.load(netlist_file), ValueError, message)


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(0.0, 0.999, allow_subnormal=False))
def test_truncation_anywhere_is_a_clear_error(netlist_file, fraction):
    data = netlist_file.read_bytes()
    cut = netlist_file.with_name("cut.safetensors")
    cut.write_bytes(data[: int(len(data) * fraction)])
    clear_error(lambda: LogicNetlist.load(cut), ValueError, "cut.safetensors")


# -- the interpreters and backends on hostile inputs -------------------------------------

INPUTS = {
    "wrong-width": (np.zeros((3, 5), np.float32), r"features|shape|width"),
    "1d": (np.zeros(4, np.float32), r"2-D|shape|features"),
    "strings": (np.array([["a"] * 4]), r"dtype|numeric"),
    "objects": (np.array([[None] * 4], dtype=object), r"dtype|numeric"),
}


@pytest.mark.parametrize("engine", ["reference", "packed"])
@pytest.mark.parametrize("case", list(INPUTS), ids=lambda c: f"error-input-{c}")
def test_hostile_inputs_to_the_engines(engine, case):
    net = small_netlist()
    x, message = INPUTS[case]
    run = (lambda: evaluate_netlist(net, x)) if engine == "reference" else \
        (lambda: PackedLogicNet(net).predict(x))
    clear_error(run, (ValueError, TypeError), message)


@pytest.mark.parametrize("engine", ["reference", "packed"], ids=lambda e: f"ok-nan-features-{e}")
def test_nan_features_encode_as_zero_bits_in_every_engine(engine):
    # NaN > threshold is False: a documented, deterministic encoding (all bits 0).
    net = small_netlist()
    x = np.full((2, 4), np.nan, np.float32)
    zeros = np.zeros((2, 4), np.float32) - 1.0  # below every threshold: all bits 0 too
    if engine == "reference":
        assert np.array_equal(evaluate_netlist(net, x), evaluate_netlist(net, zeros))
    else:
        packed = PackedLogicNet(net)
        assert np.array_equal(packed.predict(x), packed.predict(zeros))


@pytest.mark.parametrize("engine", ["reference", "packed"], ids=lambda e: f"ok-empty-batch-{e}")
def test_empty_batch_gives_empty_predictions(engine):
    net = small_netlist()
    x = np.zeros((0, 4), np.float32)
    if engine == "reference":
        scores, counts = evaluate_netlist(net, x)
        assert scores.shape == (0, 2) and counts.shape == (0, 2)
    else:
        assert PackedLogicNet(net).predict(x).shape == (0,)


def test_emit_into_a_file_path_is_a_clear_error(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    clear_error(lambda: emit_c(small_netlist(), target), (ValueError, OSError), "file")


def test_an_invalid_netlist_object_is_refused_by_the_backends():
    net = small_netlist()
    net.layers[0].indices[0, 0] = 99
    clear_error(lambda: PackedLogicNet(net), ValueError, r"indices|range")
    clear_error(lambda: emit_c(net, "/nonexistent-out"), ValueError, r"indices|range")
