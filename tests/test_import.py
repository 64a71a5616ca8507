"""``import bitlogic`` is quick and never touches a GPU."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import bitlogic
import bitlogic.layers
import bitlogic.netlist


def test_import_touches_no_gpu_and_builds_nothing():
    code = (
        "import torch, sys\n"
        "torch.cuda.init = lambda: (_ for _ in ()).throw(RuntimeError('cuda touched'))\n"
        "import bitlogic, bitlogic.layers, bitlogic.netlist, bitlogic.backends\n"
        "import bitlogic.native as n\n"
        "assert not n.loaded(), n.loaded()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_every_public_name_is_reachable():
    assert len(set(bitlogic.__all__)) == len(bitlogic.__all__)
    for name in bitlogic.__all__:
        value = getattr(bitlogic, name)
        assert value is getattr(importlib.import_module("bitlogic"), name)
        namespace: dict[str, object] = {}
        exec(f"from bitlogic import {name}", namespace)
        assert namespace[name] is value, name
    assert set(bitlogic.__all__) <= set(dir(bitlogic))
    assert bitlogic.__version__


def test_subpackages_and_unknown_names():
    assert bitlogic.train.__name__ == "bitlogic.train"  # a subpackage loads on attribute use
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        bitlogic.not_a_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from bitlogic import not_a_name", {})


def test_to_netlist_moved_next_to_the_layers():
    assert bitlogic.to_netlist is bitlogic.layers.to_netlist
    assert bitlogic.netlist.to_netlist is bitlogic.layers.to_netlist  # backward compatible
    assert "to_netlist" not in bitlogic.netlist.__all__  # a star import stays torch-free
    assert "to_netlist" in dir(bitlogic.netlist)
