"""``bitlogic synth-report``: LUTs by part, depth, and on ``--flow ecp5`` Fmax and latency."""

from __future__ import annotations

import argparse
import json
import sys

from bitlogic.cli.errors import CliError, resolve


def add_parser(sub) -> None:
    """Register ``synth-report`` on the subparsers ``sub``."""
    from bitlogic.backends.synth import FLOWS
    from bitlogic.backends.synth.ecp5 import DEVICES, ROUTERS
    from bitlogic.backends.synth.tools import YOSYS_TOOLS

    p = sub.add_parser("synth-report", help="FPGA resources (and ECP5 timing) of a netlist")
    p.add_argument("path", metavar="NETLIST")
    p.add_argument("--flow", "--target", dest="target", default="lut6", choices=FLOWS.names(),
                   help="lut6 (yosys abc -fast -lut 6, part by part), lut6-whole (full abc "
                        "-lut 6 over the flattened net; slow), xilinx (synth_xilinx), "
                        "ecp5 (synth_ecp5 + "
                        "nextpnr-ecp5; pip install 'bitlogic[fpga]')")
    p.add_argument("--tool", choices=YOSYS_TOOLS[1:],
                   help="which yosys (default: Debian's for lut6/xilinx, yowasp for ecp5)")
    p.add_argument("--no-simplify", action="store_true", help="map the netlist as stored")
    p.add_argument("--device", choices=sorted(DEVICES),
                   help="ecp5: device (default: the smallest that holds the design)")
    p.add_argument("--designs", nargs="+", choices=("io", "pipeline"),
                   help="ecp5: designs to place and route (default: io pipeline)")
    p.add_argument("--router", choices=ROUTERS,
                   help="ecp5: nextpnr's router (default: router1, the better Fmax; "
                        "router2 takes about 40%% less time)")
    p.add_argument("--timeout", type=float, help="seconds before each tool run is stopped")
    p.add_argument("--work-dir", metavar="DIR",
                   help="ecp5: keep each design's tool files in DIR/DESIGN/, with nextpnr's "
                        "log nextpnr.log written as it runs (tail -f it to follow a long route)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Synthesize ``args.path`` and print the report."""
    from bitlogic.backends import synth_report

    netlist = resolve(args.path).netlist()
    extra = {}
    if args.target == "ecp5":
        extra = {"device": args.device,
                 **({"designs": tuple(args.designs)} if args.designs else {}),
                 **({"router": args.router} if args.router else {}),
                 **({"work_dir": args.work_dir} if args.work_dir else {})}
    elif args.device or args.designs or args.router or args.work_dir:
        raise CliError("--device, --designs, --router and --work-dir are for --flow ecp5")
    if args.work_dir and not args.json:
        print(f"nextpnr logs: {args.work_dir}/DESIGN/nextpnr.log", file=sys.stderr, flush=True)
    try:
        report = synth_report(netlist, target=args.target, timeout=args.timeout,
                              simplify=not args.no_simplify, tool=args.tool, **extra)
    except (RuntimeError, ValueError) as err:  # a tool missing or failing, a used folder
        raise CliError(str(err)) from None
    if args.json:
        print(json.dumps(report, default=str))
        return 0
    print(format_report(report))
    return 0


def format_report(report: dict) -> str:
    """The report as a few readable lines."""
    cell = "LUT4" if report["target"] == "ecp5" else "LUT"
    lines = [f"target: {report['target']}  {cell}s: {report['luts']}  tools: "
             f"{report['seconds']} s"]
    simplified = report.get("simplify")
    if simplified:
        lines.append(f"simplify: {simplified['luts_before']} -> {simplified['luts_after']} "
                     f"netlist LUTs ({100 * simplified['removed_fraction']:.1f}% removed)")
    for part, row in (report.get("parts") or {}).items():
        lines.append(f"  {part:9s} {row['luts']:>8} {cell}s  depth {row['depth']}")
    if report.get("luts_per_neuron") is not None:
        lines.append(f"{cell}s per neuron in the layers: {report['luts_per_neuron']}  "
                     f"GroupSum {cell}s per summed bit: {report['groupsum_luts_per_bit']}  "
                     f"depth: {report['depth']}  FFs: {report['ffs']}")
    for name, row in report.get("designs", {}).items():
        fmax = f"{row['fmax_mhz']} MHz" if row["fmax_mhz"] else "no Fmax"
        lines.append(f"  {name:9s} {row['device']}: Fmax {fmax}, latency "
                     f"{row['latency_cycles']} cycles = {row['latency_ns']} ns, "
                     f"{row['lut4']} LUT4, {row['ffs']} FFs, {row['slices']} slices, "
                     f"nextpnr {row['nextpnr_seconds']} s")
    return "\n".join(lines)
