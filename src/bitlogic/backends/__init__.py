"""Deployment backends: they read a :class:`~bitlogic.netlist.LogicNetlist`, never layers."""

from bitlogic.backends.aiger import emit_aiger
from bitlogic.backends.c import emit_c
from bitlogic.backends.packed import PackedLogicNet
from bitlogic.backends.synth import synth_report
from bitlogic.backends.verilog import emit_verilog

__all__ = [
    # packed CPU engine
    "PackedLogicNet",
    # code generators
    "emit_c",
    "emit_verilog",
    "emit_aiger",
    # synthesis
    "synth_report",
]
