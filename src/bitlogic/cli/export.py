"""``bitlogic export``: write a netlist, C, Verilog bundle or AIGER; formats are a registry."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bitlogic.cli.errors import CliError, positive_int, resolve, user_error
from bitlogic.registry import Registry

if TYPE_CHECKING:
    from bitlogic.train.runs import Artifact

# --format -> write(artifact, out_dir, args) -> the paths written.
EXPORTERS: Registry = Registry("export format", ValueError)


@EXPORTERS.register("netlist")
def _export_netlist(art: Artifact, out: Path, args: argparse.Namespace) -> list[Path]:
    from bitlogic.train import export_netlist

    target = out / "netlist.safetensors"
    if art.kind == "netlist":
        art.netlist().save(target)
    else:  # freeze from the model, so the netlist records the run's config
        export_netlist(art.model(), art.config(), target)
    return [target]


@EXPORTERS.register("c")
def _export_c(art: Artifact, out: Path, args: argparse.Namespace) -> list[Path]:
    from bitlogic.backends import emit_c

    return emit_c(art.netlist(), out, name=args.name,
                  simplify=not args.no_simplify) or sorted(out.iterdir())


@EXPORTERS.register("verilog")
def _export_verilog(art: Artifact, out: Path, args: argparse.Namespace) -> list[Path]:
    from bitlogic.backends import emit_verilog

    netlist = art.netlist()
    try:  # emit_verilog's ValueErrors are bad arguments: a format, a sample out of range
        return emit_verilog(
            netlist, out, pipeline=args.pipeline, simplify=not args.no_simplify,
            test_inputs=_test_samples(art, netlist, args), num_test_vectors=args.test_vectors,
            name=args.name, encoder=args.encoder, feature_width=args.feature_width,
            feature_frac_bits=args.feature_frac_bits,
            feature_signed=False if args.feature_unsigned else None,
            clock_period_ns=args.clock_ns)
    except ValueError as err:
        raise user_error(err) from None


@EXPORTERS.register("aiger")
def _export_aiger(art: Artifact, out: Path, args: argparse.Namespace) -> list[Path]:
    from bitlogic.backends import emit_aiger
    from bitlogic.backends.synth import find_yosys

    try:
        find_yosys()
    except RuntimeError as err:  # not installed: the user's to fix
        raise user_error(err) from None
    return emit_aiger(art.netlist(), out, name=args.name, simplify=not args.no_simplify)


def _test_samples(art: Artifact, netlist, args: argparse.Namespace):
    """The first ``--test-vectors`` test-split samples when the run knows its dataset, as
    the netlist takes them (raw when it stores the scaling); else None (random vectors)."""
    from bitlogic.train.splits import load_split

    config = art.config()
    if config is None:
        _note(f"{args.path} does not say which dataset it was trained on")
        return None
    raw = netlist.encoding is not None and netlist.encoding.scaling is not None
    try:
        x, _ = load_split(config, "test", args.data_dir, raw=raw)
    except FileNotFoundError as err:  # not downloaded, or a wrong --data-dir
        _note(str(err))
        return None
    x = x[: args.test_vectors].flatten(1).numpy()
    if netlist.encoding is None and not ((x == 0) | (x == 1)).all():
        _note(f"the {config.dataset.name} features are not the bits this netlist takes")
        return None
    return x


def _note(reason: str) -> None:
    print(f"bitlogic: note: {reason}; the testbench uses random vectors", file=sys.stderr)


def _design_name(text: str) -> str:
    """argparse ``type`` of ``--name``."""
    from bitlogic.backends.design_name import validate_design_name

    try:
        return validate_design_name(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_parser(sub) -> None:
    """Register ``export`` on the subparsers ``sub``."""
    p = sub.add_parser("export", help="write a netlist, C, Verilog bundle or AIGER")
    p.add_argument("path", metavar="CHECKPOINT_OR_NETLIST")
    p.add_argument("--format", required=True, choices=EXPORTERS.names())
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--name", type=_design_name, default="bitlogic_net",
                   help="c, verilog, aiger: module, file and symbol name (an identifier)")
    p.add_argument("--pipeline", action="store_true",
                   help="verilog: register every layer and the outputs")
    p.add_argument("--encoder", choices=("offchip", "onchip"), default="offchip",
                   help="verilog: take thermometer bits (offchip) or fixed-point features "
                        "compared on chip (onchip, needs --feature-width/--feature-frac-bits)")
    p.add_argument("--feature-width", type=int, help="verilog onchip: bits per feature")
    p.add_argument("--feature-frac-bits", type=int, help="verilog onchip: fraction bits")
    p.add_argument("--feature-unsigned", action="store_true",
                   help="verilog onchip: unsigned features (default: two's complement)")
    p.add_argument("--clock-ns", type=float, default=5.0,
                   help="verilog: clock period of the Vivado/Quartus constraints (default 5)")
    p.add_argument("--test-vectors", type=positive_int, default=64,
                   help="verilog: testbench vectors, test-split samples when the run knows "
                        "its dataset (default 64)")
    p.add_argument("--data-dir", help="verilog: dataset directory (default: $BITLOGIC_DATA)")
    p.add_argument("--no-simplify", action="store_true",
                   help="c, verilog: emit the netlist as stored (default: simplified first)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write ``args.path`` in ``args.format`` under ``args.out``; print each path written."""
    art = resolve(args.path)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CliError(f"--out {out} exists and is not a directory") from None
    for path in EXPORTERS.get(args.format)(art, out, args):
        print(path)
    return 0
