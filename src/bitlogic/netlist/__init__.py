"""The frozen netlist IR, its validation, save/load and the NumPy reference interpreter.

Imports NumPy and safetensors only, never torch: a machine that deploys a
netlist needs neither PyTorch nor the layers. The freezer ``to_netlist``
lives next to the layers (:func:`bitlogic.layers.to_netlist`); the name
``bitlogic.netlist.to_netlist`` still works and imports it (and torch) on
first use.
"""

from __future__ import annotations

from typing import Any

from bitlogic.netlist.encoding import InputEncoding
from bitlogic.netlist.ir import (
    FORMAT_NAME,
    NETLIST_HEADER_KEY,
    LogicNetlist,
    NetlistLayer,
    is_netlist_file,
)
from bitlogic.netlist.reference import evaluate_netlist
from bitlogic.netlist.scaling import InputScaling, raw_thresholds
from bitlogic.netlist.views import mirror_permutation, view_ensemble

__all__ = [
    # intermediate representation
    "InputEncoding",
    "InputScaling",
    "LogicNetlist",
    "NetlistLayer",
    # file format
    "FORMAT_NAME",
    "NETLIST_HEADER_KEY",
    "is_netlist_file",
    # reference semantics
    "evaluate_netlist",
    "raw_thresholds",
    # ensembles over input views
    "mirror_permutation",
    "view_ensemble",
]
# ``to_netlist`` is reachable here (lazily, see ``__getattr__``) but not listed:
# a star import must not pull in torch.


def __getattr__(name: str) -> Any:
    # PEP 562: only ``to_netlist`` is lazy, so ``import bitlogic.netlist`` stays torch-free.
    if name == "to_netlist":
        from bitlogic.layers.freeze import to_netlist

        globals()["to_netlist"] = to_netlist
        return to_netlist
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"to_netlist"})
