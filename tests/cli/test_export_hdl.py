"""``bitlogic export`` of hardware: --name, test-split vectors, on-chip encoding, AIGER."""

from __future__ import annotations

import numpy as np
import pytest
from differential import assert_passed, simulate

from bitlogic.backends.verilog_testbench import input_words
from bitlogic.cli import main
from bitlogic.netlist import LogicNetlist
from bitlogic.train.runs import resolve_artifact
from bitlogic.train.splits import load_split
from tests.cli.run_cli import run_cli

SMALL = ["--set", "model.widths=[60,60]", "train.num_threads=1", "train.max_steps_per_epoch=4"]




@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli-hdl") / "run"
    code, _, err = run_cli(["train", "--preset", "digits-tiny", "--out", str(run), "--epochs", "1",
                         "--seed", "5", "--quiet", *SMALL])
    assert code == 0, err
    return run


def _test_split(run_dir, n: int) -> np.ndarray:
    """The first ``n`` test samples as the run's netlist takes them."""
    netlist = LogicNetlist.load(run_dir / "netlist.safetensors")
    raw = netlist.encoding.scaling is not None
    x, _ = load_split(resolve_artifact(str(run_dir)).config(), "test", raw=raw)
    return x[:n].flatten(1).numpy()


def _input_fields(path, out_width: int) -> list[int]:
    rows = [line for line in path.read_text().splitlines() if not line.startswith("//")]
    return [int(row, 16) >> out_width for row in rows]


def test_verilog_export_is_named_and_replays_the_test_split(run_dir, tmp_path, iverilog):
    code, printed, err = run_cli(["export", str(run_dir), "--format", "verilog", "--out",
                               str(tmp_path), "--name", "digits_net", "--pipeline",
                               "--test-vectors", "20"])
    assert code == 0, err
    assert "random vectors" not in err
    assert str(tmp_path / "digits_net.v") in printed.split()
    netlist = LogicNetlist.load(run_dir / "netlist.safetensors")
    words, _ = input_words(netlist, _test_split(run_dir, 20), None)
    tb = (tmp_path / "digits_net_tb.v").read_text()
    out_width = int(tb.split("localparam OUT_WIDTH = ")[1].split(";")[0])
    assert _input_fields(tmp_path / "digits_net_vectors.hex", out_width) == words
    assert_passed(simulate(iverilog, tmp_path, "digits_net.v", name="digits_net"))


def test_verilog_export_with_onchip_encoding(run_dir, tmp_path, iverilog):
    # unsigned 9.4 holds both the raw digits pixels (0..16) and the scaled ones (k/16)
    code, _, err = run_cli(["export", str(run_dir), "--format", "verilog", "--out", str(tmp_path),
                         "--encoder", "onchip", "--feature-width", "9", "--feature-frac-bits",
                         "4", "--feature-unsigned", "--test-vectors", "30"])
    assert code == 0, err
    assert "input  wire [575:0] features" in (tmp_path / "bitlogic_net.v").read_text()
    assert_passed(simulate(iverilog, tmp_path))


def test_onchip_format_errors_are_user_errors(run_dir, tmp_path):
    code, _, err = run_cli(["export", str(run_dir), "--format", "verilog", "--out", str(tmp_path),
                         "--encoder", "onchip", "--feature-width", "3", "--feature-frac-bits",
                         "4"])
    assert code == 2 and "does not fit the signed 3-bit" in err
    code, _, err = run_cli(["export", str(run_dir), "--format", "verilog", "--out", str(tmp_path),
                         "--feature-width", "8"])
    assert code == 2 and "encoder='onchip'" in err


def test_a_bad_name_is_an_argparse_error(run_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(run_dir), "--format", "verilog", "--out", str(tmp_path),
              "--name", "my-net"])
    assert exit_.value.code == 2 and "name must be an identifier" in capsys.readouterr().err


def test_a_bare_netlist_falls_back_to_random_vectors_and_says_so(run_dir, tmp_path):
    netlist = LogicNetlist.load(run_dir / "netlist.safetensors")
    netlist.metadata = {}  # forget the training config, so the dataset is unknown
    bare = netlist.save(tmp_path / "bare.safetensors")
    code, _, err = run_cli(["export", str(bare), "--format", "verilog", "--out",
                         str(tmp_path / "v")])
    assert code == 0 and "the testbench uses random vectors" in err


def test_c_export_takes_the_name(run_dir, tmp_path):
    code, _, err = run_cli(["export", str(run_dir), "--format", "c", "--out", str(tmp_path),
                         "--name", "digits_net"])
    assert code == 0, err
    assert "digits_net_eval_batch" in (tmp_path / "digits_net.h").read_text()


def test_aiger_export(run_dir, tmp_path, yosys):
    code, printed, err = run_cli(["export", str(run_dir), "--format", "aiger", "--out",
                               str(tmp_path), "--name", "digits_net"])
    assert code == 0, err
    assert printed.split() == [str(tmp_path / "digits_net.aig"),
                               str(tmp_path / "digits_net.aig.map")]
    assert (tmp_path / "digits_net.aig").read_bytes().startswith(b"aig ")
