"""``import bitlogic`` is quick and never touches a GPU."""

from __future__ import annotations

import subprocess
import sys


def test_import_touches_no_gpu_and_builds_nothing():
    code = (
        "import torch, sys\n"
        "torch.cuda.init = lambda: (_ for _ in ()).throw(RuntimeError('cuda touched'))\n"
        "import bitlogic, bitlogic.layers, bitlogic.netlist, bitlogic.backends\n"
        "import bitlogic._native as n\n"
        "assert not n._loaded, n._loaded\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
