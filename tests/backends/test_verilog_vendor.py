"""Vivado and Quartus scripts: run under plain tclsh with every vendor command recorded.

Neither vendor tool is here, so this checks what can be checked without them:
the scripts and constraints parse and run as Tcl, take their arguments, read
files that exist, name the right top, and constrain ports the design has.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from differential import random_netlist

from bitlogic.backends import emit_verilog
from tests.conftest import require_tool

# Sources the script under test with every unknown command (the vendor's) recorded.
HARNESS = r"""
set calls {}
proc unknown {args} { global calls; lappend calls $args; return "" }
proc get_ports {pattern} { global calls; lappend calls [list get_ports $pattern]; return "" }
set script [lindex $argv 0]
set argv [lrange $argv 1 end]
set argc [llength $argv]
set quartus(args) $argv
source $script
foreach call $calls { puts "CALL $call" }
"""


@pytest.fixture
def tclsh() -> str:
    return require_tool("tclsh")


def _calls(tclsh: str, folder: Path, script: str, *args: str) -> list[list[str]]:
    harness = folder / "harness.tcl"
    harness.write_text(HARNESS)
    proc = subprocess.run([tclsh, str(harness), str(folder / script), *args], cwd=folder,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [_split(line[5:]) for line in proc.stdout.splitlines() if line.startswith("CALL ")]


def _split(line: str) -> list[str]:
    """A Tcl list line as words (the harness prints each call as a list)."""
    return [a or b for a, b in re.findall(r"\{([^{}]*)\}|(\S+)", line)]


def _ports(design: Path) -> set[str]:
    return set(re.findall(r"^\s*(?:input|output)\s+wire\s+(?:\[[^]]+\]\s+)?(\w+)",
                          design.read_text(), re.MULTILINE))


def _emit(tmp_path: Path, pipeline: bool) -> Path:
    netlist = random_netlist(2, [20, 9], [4, 2], num_classes=3, encoding=(4, 3))
    emit_verilog(netlist, tmp_path, pipeline=pipeline, name="jet_tagger", clock_period_ns=3.2)
    return tmp_path


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
def test_vivado_script_runs_out_of_context(tclsh, tmp_path, pipeline):
    folder = _emit(tmp_path, pipeline)
    calls = _calls(tclsh, folder, "jet_tagger_vivado.tcl")
    commands = [c[0] for c in calls]
    assert commands == ["read_verilog", "read_xdc", "synth_design", "opt_design", "place_design",
                        "route_design", "report_utilization", "report_timing_summary",
                        "write_checkpoint"]
    assert Path(calls[0][1]) == folder / "jet_tagger.v"
    assert calls[1][1:3] == ["-mode", "out_of_context"] and Path(calls[1][3]).is_file()
    assert calls[2] == ["synth_design", "-top", "jet_tagger", "-part", "xcvu9p-flga2104-2L-e",
                        "-mode", "out_of_context"]
    assert (folder / "jet_tagger_vivado").is_dir()
    custom = _calls(tclsh, folder, "jet_tagger_vivado.tcl", "xc7a35tcpg236-1", str(tmp_path / "o"))
    assert custom[2][4] == "xc7a35tcpg236-1" and (tmp_path / "o").is_dir()


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
def test_quartus_script_builds_with_virtual_pins(tclsh, tmp_path, pipeline):
    folder = _emit(tmp_path, pipeline)
    calls = _calls(tclsh, folder, "jet_tagger_quartus.tcl", "Cyclone 10 GX", "10CX085YF672E5G",
                   str(tmp_path / "q"))
    assert calls[0] == ["load_package", "flow"]
    assert calls[1] == ["project_new", "jet_tagger", "-overwrite"]
    settings = {c[2]: c[3] for c in calls if c[0] == "set_global_assignment"}
    assert settings["FAMILY"] == "Cyclone 10 GX" and settings["DEVICE"] == "10CX085YF672E5G"
    assert settings["TOP_LEVEL_ENTITY"] == "jet_tagger"
    assert Path(settings["VERILOG_FILE"]).is_file() and Path(settings["SDC_FILE"]).is_file()
    virtual = {c[-1].split("[")[0] for c in calls if c[:3] == ["set_instance_assignment", "-name",
                                                                "VIRTUAL_PIN"]}
    assert virtual == _ports(folder / "jet_tagger.v") - {"clk"}
    assert calls[-2:] == [["execute_flow", "-compile"], ["project_close"]]


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
@pytest.mark.parametrize("constraints", ["jet_tagger_ooc.xdc", "jet_tagger.sdc"])
def test_constraints_name_ports_of_the_design_and_the_clock(tclsh, tmp_path, pipeline,
                                                            constraints):
    folder = _emit(tmp_path, pipeline)
    calls = _calls(tclsh, folder, constraints)
    clocks = [c for c in calls if c[0] == "create_clock"]
    assert len(clocks) == 1 and "3.200" in clocks[0]
    named = {p.split("[")[0] for c in calls if c[0] == "get_ports" for p in c[1].split()}
    ports = _ports(folder / "jet_tagger.v")
    assert named == ports  # every port is constrained, and only real ones
    assert (clocks[0][2] == "clk") == pipeline
