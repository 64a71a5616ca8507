"""LUT cost of on-chip input encoding: yosys LUT6 of a design with and without it.

``emit_verilog(..., encoder="onchip")`` moves the thermometer comparisons into
the design: each live thermometer bit becomes one integer comparison of a
fixed-point feature with a constant. This script emits each netlist twice
(off-chip: the design takes the bits; on-chip: in each feature format given)
and maps both with the bundle's own ``yosys/synth.ys`` (``abc -lut 6``), so
the difference is what the encoder costs. The reference for the ratio is the
off-chip design mapped in the same run. (DWN reports that its thermometer
encoders can add up to 3.2x the LUTs of the network, arXiv 2512.15251.)

Usage::

    python benchmarks/onchip_encoding.py --netlist digits-tiny=runs/digits/netlist.safetensors
    python benchmarks/onchip_encoding.py --netlist d=net.safetensors --formats u5.4 s8.4 s16.8
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_average, machine_description  # noqa: E402

from bitlogic.backends import emit_verilog, synth_report  # noqa: E402
from bitlogic.netlist import LogicNetlist  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "onchip_encoding.md"
_FORMAT = re.compile(r"([su])(\d+)\.(\d+)")


def parse_format(text: str) -> dict:
    """``s16.8`` -> signed 16-bit with 8 fraction bits; ``u5.4`` unsigned."""
    match = _FORMAT.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"format must look like s16.8 or u5.4, got {text!r}")
    kind, width, frac = match.groups()
    return dict(encoder="onchip", feature_width=int(width), feature_frac_bits=int(frac),
                feature_signed=kind == "s")


def mapped_luts(netlist: LogicNetlist, work: Path, **encoder) -> dict:
    """yosys LUT6 report of the bundle emitted into ``work``."""
    emit_verilog(netlist, work, num_test_vectors=1, **encoder)
    return synth_report(work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--netlist", action="append", required=True, metavar="NAME=PATH",
                        help="a netlist with an input encoding (repeatable)")
    parser.add_argument("--formats", nargs="+", default=["u5.4", "s8.4", "s16.8"],
                        help="on-chip feature formats, s<width>.<frac> or u<width>.<frac>")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    formats = {text: parse_format(text) for text in args.formats}
    rows = []
    for item in args.netlist:
        name, _, path = item.partition("=")
        netlist = LogicNetlist.load(path)
        enc = netlist.encoding
        label = (f"{name} ({enc.num_features} features x {enc.num_thresholds} thresholds, "
                 f"{netlist.num_gates} LUTs)")
        with tempfile.TemporaryDirectory(prefix="bitlogic-onchip-") as tmp:
            base = mapped_luts(netlist, Path(tmp) / "offchip")
            rows.append((label, "off-chip (x bits)", base["luts"], 0, 1.0, base["seconds"]))
            print(rows[-1], flush=True)
            for text, encoder in formats.items():
                report = mapped_luts(netlist, Path(tmp) / text, **encoder)
                extra = report["luts"] - base["luts"]
                rows.append((name, f"on-chip {text}", report["luts"], extra,
                             report["luts"] / base["luts"], report["seconds"]))
                print(rows[-1], flush=True)
    lines = [
        "# On-chip input encoding: LUT cost",
        "",
        "Made by `benchmarks/onchip_encoding.py`: yosys `abc -lut 6` LUT6 of each bundle "
        "(its own `yosys/synth.ys`), off-chip encoding as the reference.",
        f"Formats: `s`/`u` signed/unsigned, `<width>.<fraction bits>`. {machine_description()}; "
        f"load average {load_average()}.",
        "",
        "| netlist | design | LUT6 | encoder LUT6 | x off-chip | yosys s |",
        "|---|---|---|---|---|---|",
    ]
    for name, design, luts, extra, ratio, seconds in rows:
        lines.append(f"| {name} | {design} | {luts} | {extra} | {ratio:.2f}x | {seconds} |")
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
