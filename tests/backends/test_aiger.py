"""emit_aiger: the and-inverter graph computes the netlist's counts and predictions."""

from __future__ import annotations

import numpy as np
import pytest
from differential import random_inputs, random_netlist

from bitlogic.backends import emit_aiger
from bitlogic.backends.verilog_interface import pred_width, score_width
from bitlogic.netlist.reference import encode_inputs, evaluate_netlist, predict_from_counts


def evaluate_aag(aag: str, symbols: str, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate an ASCII AIGER file without latches on named input bits.

    Args:
        aag: the ``.aag`` text; ``symbols``: the yosys map (``input <i> <bit> <port>``).
        x: port -> bool ``(batch, width)``.

    Returns:
        port -> bool ``(batch, width)`` of every output port.
    """
    lines = aag.splitlines()
    _, m, i, latches, o, a = lines[0].split()
    m, i, o, a = int(m), int(i), int(o), int(a)
    assert int(latches) == 0, "combinational designs only"
    batch = len(next(iter(x.values())))
    values = np.zeros((m + 1, batch), dtype=bool)

    def lit(v: int) -> np.ndarray:
        return values[v >> 1] ^ bool(v & 1)

    maps = [line.split() for line in symbols.splitlines() if line]
    inputs = {int(k): (port, int(bit)) for kind, k, bit, port in maps if kind == "input"}
    for k in range(i):
        port, bit = inputs[k]
        values[int(lines[1 + k]) >> 1] = x[port][:, bit]
    outputs = [int(line) for line in lines[1 + i : 1 + i + o]]
    for line in lines[1 + i + o : 1 + i + o + a]:  # yosys writes the ANDs in topological order
        lhs, r0, r1 = (int(v) for v in line.split())
        values[lhs >> 1] = lit(r0) & lit(r1)
    result: dict[str, np.ndarray] = {}
    for kind, k, bit, port in maps:
        if kind == "output":
            width = 1 + max(int(b) for t, _, b, p in maps if t == "output" and p == port)
            result.setdefault(port, np.zeros((batch, width), dtype=bool))
            result[port][:, int(bit)] = lit(outputs[int(k)])
    return result


def _as_int(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.int64) << np.arange(bits.shape[1])).sum(axis=1)


@pytest.mark.parametrize("seed", [0, 1])
def test_aiger_computes_counts_and_predictions(yosys, tmp_path, seed):
    netlist = random_netlist(seed, [30, 24, 12], [6, 2, 4], num_classes=4, encoding=(5, 3))
    aag, symbols = emit_aiger(netlist, tmp_path, name="jet_tagger", ascii=True)
    assert aag.name == "jet_tagger.aag" and aag.read_text().startswith("aag ")
    x = random_inputs(netlist, 300, seed=seed)
    bits = encode_inputs(netlist, x)
    out = evaluate_aag(aag.read_text(), symbols.read_text(), {"x": bits})
    _, counts = evaluate_netlist(netlist, x)
    sw, k = score_width(netlist), netlist.num_classes
    assert out["scores"].shape[1] == k * sw and out["pred"].shape[1] == pred_width(netlist)
    got = np.stack([_as_int(out["scores"][:, c * sw:(c + 1) * sw]) for c in range(k)], axis=1)
    np.testing.assert_array_equal(got, counts, err_msg=f"seed {seed}")
    np.testing.assert_array_equal(_as_int(out["pred"]), predict_from_counts(counts))


def test_binary_aiger(yosys, tmp_path):
    netlist = random_netlist(3, [12], [4], num_classes=2)
    aig, symbols = emit_aiger(netlist, tmp_path / "out")
    assert aig.name == "bitlogic_net.aig"
    header = aig.read_bytes().split(b"\n", 1)[0].split()
    assert header[0] == b"aig" and int(header[2]) == 16 and int(header[3]) == 0  # 16 inputs
    assert "input 0 0 x" in symbols.read_text()
