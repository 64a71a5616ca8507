"""Deployment without torch: the netlist and the backends never import torch or the layers.

Each check runs in a fresh interpreter whose import system refuses ``torch``
and ``bitlogic.layers`` (a ``sys.meta_path`` finder that raises), so an
accidental import anywhere fails loudly instead of passing unnoticed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# Prepended to every child script: refuse torch (and the layers) outright.
_BLOCK = """
import importlib.abc
import sys

_BLOCKED = ("torch", "bitlogic.layers")


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in _BLOCKED):
            raise ImportError(f"{name} is blocked: this code must run without torch")
        return None


sys.meta_path.insert(0, _Refuse())


def assert_torch_free():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torch"
                    or m.startswith("bitlogic.layers"))
    assert not loaded, loaded
"""

# A small random netlist with a thermometer encoding, built from NumPy alone.
_BUILD_NETLIST = """
import numpy as np
from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer

rng = np.random.default_rng(0)
features, thresholds = 5, 3
encoding = InputEncoding(np.sort(rng.normal(size=(features, thresholds)), axis=1)
                         .astype(np.float32))
layers, width = [], features * thresholds
for n_out, rank in ((24, 4), (12, 2)):
    indices = rng.integers(0, width, size=(n_out, rank)).astype(np.int32)
    luts = (rng.random((n_out, 2**rank)) < 0.5).astype(np.uint8)
    layers.append(NetlistLayer(indices, luts))
    width = n_out
netlist = LogicNetlist(features * thresholds, layers, 3, 2.0, encoding)
netlist.save(sys.argv[1])
"""


def _run(script: str, *args: str) -> str:
    code = _BLOCK + textwrap.dedent(script)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_the_blocker_works():
    out = _run("""
        try:
            import torch  # noqa: F401
        except ImportError as err:
            print("refused:", err)
    """)
    assert "refused: torch is blocked" in out


def test_load_run_and_emit_without_torch(tmp_path: Path):
    path = tmp_path / "net.safetensors"
    _run(_BUILD_NETLIST, str(path))
    out = _run("""
        import numpy as np
        import bitlogic.backends
        import bitlogic.netlist
        from bitlogic.backends import PackedLogicNet, emit_c, emit_verilog
        from bitlogic.netlist import LogicNetlist, evaluate_netlist, is_netlist_file

        path, out_dir = sys.argv[1], sys.argv[2]
        assert is_netlist_file(path)
        netlist = LogicNetlist.load(path)
        x = np.random.default_rng(1).normal(size=(130, netlist.input_width)).astype(np.float32)
        _, expected = evaluate_netlist(netlist, x)
        for use_native in (None, False):
            engine = PackedLogicNet(netlist, use_native=use_native)
            counts = engine.counts(x)
            assert isinstance(counts, np.ndarray)
            assert np.array_equal(counts, expected), engine.backend
        written = emit_c(netlist, out_dir + "/c") + emit_verilog(netlist, out_dir + "/v")
        assert all(p.is_file() for p in written)
        assert_torch_free()
        print("ok", len(written))
    """, str(path), str(tmp_path))
    assert out.startswith("ok")


def test_packed_engine_refuses_a_non_model_without_torch():
    out = _run("""
        from bitlogic.backends import PackedLogicNet

        try:
            PackedLogicNet(object())
        except TypeError as err:
            print("TypeError:", err)
        assert_torch_free()
    """)
    assert "needs a LogicNetlist" in out


def test_import_bitlogic_alone_is_lazy():
    out = _run("""
        import bitlogic

        assert "bitlogic.backends" not in sys.modules
        assert "bitlogic.netlist" not in sys.modules
        assert "LogicNetlist" in dir(bitlogic) and "LogicDense" in bitlogic.__all__
        from bitlogic import LogicNetlist, PackedLogicNet  # torch-free names load on use
        assert bitlogic.netlist.LogicNetlist is LogicNetlist
        assert_torch_free()
        try:
            bitlogic.LogicDense  # a training name really needs torch
        except ImportError as err:
            print("refused:", err)
    """)
    assert "refused: torch is blocked" in out or "refused: bitlogic.layers is blocked" in out
