"""The frozen netlist IR, its NumPy reference interpreter and ``to_netlist``."""

from bitlogic.netlist.freeze import to_netlist
from bitlogic.netlist.ir import InputEncoding, LogicNetlist, NetlistLayer
from bitlogic.netlist.reference import evaluate_netlist

__all__ = [
    # intermediate representation
    "InputEncoding",
    "LogicNetlist",
    "NetlistLayer",
    # reference semantics
    "evaluate_netlist",
    # freezing a trained model
    "to_netlist",
]
