"""emit_c: the generated C, compiled with -Wall -Werror, equals the reference."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from netlist_cases import TIE_INPUTS, TIE_PREDICTIONS, random_inputs, random_netlist, tie_netlist

from bitlogic.backends import emit_c
from bitlogic.backends.c import c_float_literal
from bitlogic.netlist import evaluate_netlist
from bitlogic.netlist.reference import predict_from_counts

DRIVER = Path(__file__).with_name("c_driver.c")
CFLAGS = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]

CASES = {
    "one-layer-rank2": dict(widths=[12], ranks=[2], num_classes=4),
    "one-layer-rank6-one-class": dict(widths=[5], ranks=[6], num_classes=1),
    "mixed-ranks": dict(widths=[40, 30, 20, 10], ranks=[1, 3, 5, 4], num_classes=5),
    "rank6-encoded": dict(widths=[50, 24], ranks=[6, 2], num_classes=3, encoding=(9, 4)),
    "wide-input": dict(widths=[70], ranks=[4], num_classes=10, num_inputs=300),
}


def run_c(cc: str, netlist, x: np.ndarray, work: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Emit, compile and run; returns (counts, pred, scores).

    Also checks that the 64-sample word API gives the same counts.
    """
    emit_c(netlist, work)
    exe = work / "driver"
    subprocess.run([cc, *CFLAGS, "-I", str(work), str(DRIVER), str(work / "bitlogic_net.c"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    data = work / "inputs.bin"
    rows = x.astype(np.float32 if netlist.encoding is not None else np.uint8)
    data.write_bytes(np.int64(len(x)).tobytes() + np.ascontiguousarray(rows).tobytes())
    out = subprocess.run([str(exe), str(data)], check=True, capture_output=True, text=True).stdout
    k = netlist.num_classes
    fields = [line.split() for line in out.splitlines()]
    counts = np.array([[int(v) for v in f[:k]] for f in fields], dtype=np.int64).reshape(-1, k)
    pred = np.array([int(f[k]) for f in fields], dtype=np.int64)
    scores = np.array([[float.fromhex(v) for v in f[k + 1 : 2 * k + 1]] for f in fields])
    words = np.array([[int(v) for v in f[2 * k + 1 :]] for f in fields], dtype=np.int64)
    np.testing.assert_array_equal(words.reshape(-1, k), counts)
    return counts, pred, scores.astype(np.float32).reshape(-1, k)


@pytest.mark.parametrize("case", sorted(CASES))
def test_c_matches_reference(cc, tmp_path, case):
    netlist = random_netlist(len(case), **CASES[case])
    x = random_inputs(netlist, 65, seed=1)
    counts, pred, scores = run_c(cc, netlist, x, tmp_path)
    ref_scores, ref_counts = evaluate_netlist(netlist, x)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(pred, predict_from_counts(ref_counts))
    np.testing.assert_array_equal(scores, ref_scores)


def test_c_ties_go_to_the_lower_class(cc, tmp_path):
    _, pred, _ = run_c(cc, tie_netlist(), TIE_INPUTS, tmp_path)
    np.testing.assert_array_equal(pred, TIE_PREDICTIONS)


def test_header_documents_the_interface(tmp_path):
    netlist = random_netlist(0, [8], [2], num_classes=2, encoding=(3, 2), tau=0.3)
    source, header = emit_c(netlist, tmp_path)
    text = header.read_text()
    assert "#define BITLOGIC_NET_NUM_INPUTS 6" in text
    assert "bitlogic_net_eval(const float *features" in text
    assert f"#define BITLOGIC_NET_TAU {c_float_literal(0.3)}" in text
    plain = random_netlist(0, [8], [2], num_classes=2)
    assert "bitlogic_net_eval(" not in emit_c(plain, tmp_path / "p")[1].read_text()


def test_float_literals_are_exact():
    for value in (0.3, 1.0, 1e-7, 3.4e38, 0.0, -2.5):
        literal = c_float_literal(value)
        assert literal.endswith("f")
        assert np.float32(float.fromhex(literal[:-1])) == np.float32(value)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_c_random_sweep(cc, tmp_path, seed):
    rng = np.random.default_rng(seed)
    layers = int(rng.integers(1, 5))
    k = int(rng.integers(1, 11))
    netlist = random_netlist(
        seed,
        widths=[int(rng.integers(1, 200)) for _ in range(layers - 1)]
        + [k * int(rng.integers(1, 20))],
        ranks=[int(rng.choice([2, 4, 6])) for _ in range(layers)],
        num_classes=k,
        num_inputs=int(rng.integers(1, 400)),
        encoding=None if seed % 2 else (int(rng.integers(1, 30)), int(rng.integers(1, 8))),
    )
    x = random_inputs(netlist, 1000, seed)
    counts, pred, _ = run_c(cc, netlist, x, tmp_path)
    np.testing.assert_array_equal(counts, evaluate_netlist(netlist, x)[1])
