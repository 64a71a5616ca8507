"""``LogicNetlist.simplify``: equal to the original on every input, smaller, idempotent.

The randomized equality suite runs nets full of what simplify removes
(constants, pass-throughs, NOT chains, duplicates, dead LUTs) through every
backend with :func:`differential.assert_backends_agree`, on random and
exhaustive inputs and batch sizes that are not multiples of 64.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from differential import BATCH_SIZES, assert_backends_agree, netlists, random_inputs, random_netlist
from hypothesis import HealthCheck, given, settings

from bitlogic.backends import PackedLogicNet
from bitlogic.netlist import LogicNetlist, NetlistLayer, evaluate_netlist
from bitlogic.netlist.optimize import SimplifyReport, simplify_netlist


def redundant_netlist(seed: int, widths: list[int], ranks: list[int], num_classes: int,
                      num_inputs: int = 12, encoding: tuple[int, int] | None = None
                      ) -> LogicNetlist:
    """A random netlist salted with NOT / copy LUTs, duplicates and repeated inputs."""
    net = random_netlist(seed, widths, ranks, num_classes, num_inputs, encoding)
    rng = np.random.default_rng(seed + 1)
    for layer in net.layers:
        n, rank = layer.n_out, layer.rank
        address = np.arange(2**rank)
        kind = rng.integers(0, 6, size=n)
        j = rng.integers(0, rank, size=n)
        single = (address[None, :] >> (rank - 1 - j[:, None])) & 1  # copy of input j
        layer.luts[kind == 0] = single[kind == 0]
        layer.luts[kind == 1] = 1 - single[kind == 1]  # NOT of input j
        dup = np.flatnonzero(kind == 2)
        if n > 1 and dup.size:  # exact copies of another LUT, inputs maybe permuted
            src = rng.integers(0, n, size=dup.size)
            layer.indices[dup], layer.luts[dup] = layer.indices[src], layer.luts[src]
        if rank > 1:
            rep = np.flatnonzero(kind == 3)
            layer.indices[rep, 1] = layer.indices[rep, 0]  # one signal read twice
    return net.validate()


def _cases() -> list[tuple[int, LogicNetlist]]:
    """Every rank 1..6, 1..5 layers, with and without an encoding."""
    cases = []
    for seed in range(36):
        rng = np.random.default_rng(seed)
        layers, k = 1 + seed % 5, int(rng.integers(1, 6))
        ranks = [int(r) for r in rng.integers(1, 7, size=layers)]
        ranks[0] = 1 + seed % 6
        widths = [int(rng.integers(1, 50)) for _ in range(layers - 1)]
        widths.append(k * int(rng.integers(1, 8)))
        encoding = (int(rng.integers(1, 6)), int(rng.integers(1, 4))) if seed % 3 == 0 else None
        cases.append((seed, redundant_netlist(seed, widths, ranks, k, int(rng.integers(1, 30)),
                                              encoding)))
    return cases


@pytest.mark.parametrize(("seed", "netlist"), _cases(), ids=lambda v: str(v) if
                         isinstance(v, int) else "")
def test_simplified_netlist_equals_original_on_every_backend(seed, netlist):
    small, report = netlist.simplify()
    assert report.luts_after == small.num_gates <= netlist.num_gates, f"seed {seed}"
    for batch in BATCH_SIZES:
        x = random_inputs(netlist, batch, seed=seed)
        np.testing.assert_array_equal(evaluate_netlist(small, x)[0],
                                      evaluate_netlist(netlist, x)[0],
                                      err_msg=f"seed {seed} batch {batch}")
    assert_backends_agree(netlist, random_inputs(netlist, 129, seed=seed), seed=seed)


@pytest.mark.parametrize("seed", range(8))
def test_simplified_netlist_equals_original_on_every_input(seed):
    num_inputs = 6 + seed % 5
    netlist = redundant_netlist(seed, [30, 20, 12], [seed % 6 + 1, 6, 2], 3, num_inputs)
    every = np.array(list(itertools.product([0, 1], repeat=num_inputs)), dtype=bool)
    small, _ = netlist.simplify()
    np.testing.assert_array_equal(evaluate_netlist(small, every)[1],
                                  evaluate_netlist(netlist, every)[1], err_msg=f"seed {seed}")
    assert_backends_agree(netlist, every, seed=seed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(netlists())
def test_simplify_is_exact_and_idempotent_on_any_netlist(netlist):
    small, report = netlist.simplify()
    x = random_inputs(netlist, 65, seed=1)
    np.testing.assert_array_equal(evaluate_netlist(small, x)[1], evaluate_netlist(netlist, x)[1])
    again, second = small.simplify()
    assert again == small
    assert second.luts_after == report.luts_after
    assert second.duplicates == second.dead == second.inverted == 0
    assert small.layers[-1].n_out == netlist.layers[-1].n_out  # GroupSum width kept


def _layer(indices, luts) -> NetlistLayer:
    return NetlistLayer(np.array(indices, np.int32), np.array(luts, np.uint8))


COPY, NOT = [0, 1], [1, 0]


def test_not_chains_collapse_and_copies_of_one_signal_merge():
    # x0 -> NOT -> NOT -> NOT, and a second chain of copies of x0, feeding an AND
    chain = [_layer([[0], [0]], [NOT, COPY]), _layer([[0], [1]], [NOT, COPY]),
             _layer([[0], [1]], [NOT, COPY])]
    out = _layer([[0, 1], [1, 1]], [[0, 0, 0, 1], [0, 1, 1, 0]])
    net = LogicNetlist(2, [*chain, out], num_classes=1, tau=1.0)
    small, report = net.simplify()
    assert report.widths_after == (1, 1, 1, 2)  # one copy of x0 per level
    assert report.duplicates == 3 and report.inverted == 0
    every = np.array(list(itertools.product([0, 1], repeat=2)), dtype=bool)
    np.testing.assert_array_equal(evaluate_netlist(small, every)[1],
                                  evaluate_netlist(net, every)[1])
    # NOT(x0) AND x0 is constant 0 and XOR(a, a) too: the last layer keeps both, as constants
    assert small.layers[-1].luts.tolist() == [[0, 0], [0, 0]]


def test_constants_fold_dead_luts_go_and_support_lowers_the_rank():
    hidden = _layer([[0, 1, 2], [0, 1, 2], [2, 1, 0]],
                    [[1] * 8,                    # constant 1
                     [0, 0, 0, 0, 1, 1, 1, 1],   # copy of input 0 (x0)
                     [0, 1, 1, 0, 0, 1, 1, 0]])  # XOR of inputs 1, 2 (x1 ^ x0): nobody reads it
    out = _layer([[0, 1], [1, 1]], [[0, 0, 0, 1], [0, 0, 1, 1]])  # const AND x0, x0
    net = LogicNetlist(3, [hidden, out], num_classes=2, tau=1.0)
    small, report = net.simplify()
    assert report.constants == 1 and report.dead == 1 and report.duplicates == 0
    assert small.layers[0].rank == 1 and small.layers[0].indices.tolist() == [[0]]
    assert small.layers[1].rank == 1 and small.layers[1].indices.tolist() == [[0], [0]]
    assert small.layers[1].luts.tolist() == [[0, 1], [0, 1]]
    assert report.ranks_before == (3, 2) and report.ranks_after == (1, 1)


def test_a_lut_and_its_complement_are_one_lut_and_the_last_layer_keeps_nots():
    hidden = _layer([[0, 1], [1, 0]], [[0, 0, 0, 1], [1, 1, 1, 0]])  # AND, NAND (inputs swapped)
    out = _layer([[0], [1]], [COPY, COPY])
    net = LogicNetlist(2, [hidden, out], num_classes=2, tau=1.0)
    small, report = net.simplify()
    assert small.layers[0].n_out == 1 and report.duplicates == 1
    assert small.layers[1].luts.tolist() == [COPY, NOT]  # the NOT moved into GroupSum's LUT
    assert report.pass_throughs == 2


def test_a_hidden_layer_of_constants_keeps_one_placeholder():
    hidden = _layer([[0], [1]], [[1, 1], [0, 0]])
    out = _layer([[0, 1]], [[0, 1, 1, 0]])
    net = LogicNetlist(2, [hidden, out], num_classes=1, tau=1.0)
    small, report = net.simplify()
    assert report.placeholders == 1 and small.layers[0].n_out == 1
    assert small.layers[1].luts.tolist() == [[1, 1]]
    assert evaluate_netlist(small, np.zeros((3, 2), bool))[1].tolist() == [[1]] * 3


def test_report_fields_and_the_netlist_fields_that_must_not_change():
    net = redundant_netlist(5, [40, 30, 20], [4, 6, 2], 4, encoding=(4, 3))
    small, report = simplify_netlist(net)
    assert isinstance(report, SimplifyReport)
    assert (small.num_inputs, small.num_classes, small.tau, small.encoding, small.metadata) == (
        net.num_inputs, net.num_classes, net.tau, net.encoding, net.metadata)
    fields = report.to_dict()
    assert fields["luts_before"] == net.num_gates == sum(fields["widths_before"])
    assert fields["luts_after"] == small.num_gates
    removed = report.constants + report.duplicates + report.dead - report.placeholders
    assert report.luts_before - report.luts_after == removed
    assert 0 < report.removed_fraction < 1


def test_engine_and_exporters_take_the_flag(tmp_path):
    net = redundant_netlist(3, [40, 20], [4, 2], 2)
    assert PackedLogicNet(net, use_native=False).program.netlist.num_gates < net.num_gates
    assert PackedLogicNet(net, use_native=False, simplify=False).program.netlist is net


def test_c_and_verilog_of_the_simplified_netlist_agree(cc, iverilog, tmp_path):
    net = redundant_netlist(11, [60, 30, 12], [6, 3, 2], 3, encoding=(5, 3))
    assert_backends_agree(net, random_inputs(net, 200, seed=11), seed=11, cc=cc,
                          iverilog=iverilog, work=tmp_path)
    from bitlogic.backends import emit_c

    emit_c(net, tmp_path / "full", simplify=False)
    emit_c(net, tmp_path / "small")
    full = (tmp_path / "full" / "bitlogic_net.c").stat().st_size
    assert (tmp_path / "small" / "bitlogic_net.c").stat().st_size < full


def test_cli_export_and_eval_take_no_simplify(tmp_path, capsys):
    from bitlogic.cli import main

    net = redundant_netlist(6, [40, 20], [4, 2], 2)
    path = net.save(tmp_path / "net.safetensors")
    sizes = {}
    for flag in ([], ["--no-simplify"]):
        out = tmp_path / ("full" if flag else "small")
        assert main(["export", str(path), "--format", "c", "--out", str(out), *flag]) == 0
        sizes[bool(flag)] = (out / "bitlogic_net.c").stat().st_size
    assert sizes[False] < sizes[True]
    capsys.readouterr()
    from bitlogic.cli import build_parser

    args = build_parser().parse_args(["eval", str(path), "--no-simplify"])
    assert args.no_simplify is True
