"""The testbench fails loudly: non-zero exit on a wrong vector or a wrong latency, in
Icarus and in Verilator, run with the very commands its header states."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from differential import assert_passed, random_netlist

from bitlogic.backends import emit_verilog

NAME = "tb_check"


def _emit(tmp_path: Path, pipeline: bool) -> Path:
    netlist = random_netlist(6, [24, 12], [4, 2], num_classes=3, encoding=(5, 3))
    emit_verilog(netlist, tmp_path, pipeline=pipeline, num_test_vectors=12, name=NAME)
    return tmp_path


def header_commands(testbench: Path) -> dict[str, str]:
    """The shell commands the testbench header gives, by the tool they start with."""
    found = re.findall(r"^//\s+\$ (.+)$", testbench.read_text(), re.MULTILINE)
    return {command.split()[0]: command for command in found}


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True)  # noqa: S602


def _corrupt(folder: Path, vector: int) -> None:
    """Flip the expected pred bit (the lowest bit) of vector ``vector``."""
    path = folder / f"{NAME}_vectors.hex"
    lines = path.read_text().splitlines()
    data = [i for i, line in enumerate(lines) if not line.startswith("//")]
    row = lines[data[vector]]
    lines[data[vector]] = row[:-1] + f"{int(row[-1], 16) ^ 1:x}"
    path.write_text("\n".join(lines) + "\n")


def _set_latency(folder: Path, change: int) -> None:
    path = folder / f"{NAME}_tb.v"
    text = path.read_text()
    latency = int(re.search(r"localparam LATENCY = (\d+);", text).group(1))
    path.write_text(text.replace(f"localparam LATENCY = {latency};",
                                 f"localparam LATENCY = {latency + change};"))


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
def test_icarus_passes_then_fails_on_a_corrupted_vector(iverilog, tmp_path, pipeline):
    folder = _emit(tmp_path, pipeline)
    command = header_commands(folder / f"{NAME}_tb.v")["iverilog"]
    assert "-g2012" in command and "-c files.f" in command
    ok = _run(command, folder)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert_passed(ok.stdout)
    _corrupt(folder, 3)
    bad = _run(command, folder)
    assert bad.returncode != 0
    assert "FAIL vector 3" in bad.stdout and "FAIL 1" in bad.stdout
    assert "PASS" not in bad.stdout


@pytest.mark.parametrize("change", [-1, 1])
def test_icarus_fails_when_the_latency_is_not_the_documented_one(iverilog, tmp_path, change):
    folder = _emit(tmp_path, pipeline=True)
    _set_latency(folder, change)
    bad = _run(header_commands(folder / f"{NAME}_tb.v")["iverilog"], folder)
    assert bad.returncode != 0 and "FAIL latency" in bad.stdout, bad.stdout


def test_verilator_binary_passes_then_fails(verilator, tmp_path):
    """One build (the vectors are read at run time): PASS, then a corrupted vector."""
    folder = _emit(tmp_path, pipeline=True)
    command = header_commands(folder / f"{NAME}_tb.v")["verilator"]
    assert "--binary" in command
    ok = _run(command, folder)
    assert ok.returncode == 0, (ok.stdout + ok.stderr)[-3000:]
    assert "PASS" in ok.stdout.splitlines()
    _corrupt(folder, 5)
    bad = subprocess.run([f"./obj_dir/V{NAME}_tb"], cwd=folder, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "FAIL vector 5" in bad.stdout
