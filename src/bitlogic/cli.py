"""The ``bitlogic`` command line: train, eval, export, info, synth-report, presets.

Examples::

    bitlogic train --preset digits-tiny --out runs/digits
    bitlogic train --out runs/digits --resume --epochs 20
    torchrun --nproc_per_node=2 -m bitlogic.cli train --preset mnist-s --out runs/mnist
    bitlogic eval runs/digits --split test --json
    bitlogic eval runs/digits/netlist.safetensors
    bitlogic export runs/digits --format verilog --out build/verilog
    bitlogic info runs/digits
    bitlogic synth-report runs/digits/netlist.safetensors --target lut6

Bad input (a missing path, an unknown preset or config key) prints one line
``bitlogic: error: ...`` and exits with status 2; set ``BITLOGIC_DEBUG=1`` for
the traceback. Only :class:`CliError` and
:class:`~bitlogic.train.typed.ConfigError` count as bad input: the commands
turn the documented user-facing errors (a missing file, a file that is not an
artifact) into ``CliError`` where they call into the library, so any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bitlogic import __version__
from bitlogic.registry import Registry

if TYPE_CHECKING:
    from bitlogic.train.config import RunConfig
    from bitlogic.train.runs import Artifact

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def _user_error(err: Exception) -> CliError:
    """``err`` as a :class:`CliError` with the same message (a KeyError's unquoted)."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return CliError(message)


def _resolve(path: str) -> Artifact:
    """The artifact at ``path``; a missing path or a foreign file is the user's error."""
    from bitlogic.train import resolve_artifact

    try:
        return resolve_artifact(path)
    except (FileNotFoundError, ValueError) as err:
        raise _user_error(err) from None


def _positive_int(text: str) -> int:
    """argparse ``type`` for counts (threads, repeats)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _train(args: argparse.Namespace) -> int:
    from bitlogic.train import apply_overrides, load_preset, read_config, train
    from bitlogic.train.config import RunConfig
    from bitlogic.train.runs import CONFIG_FILE

    overrides = list(args.set or [])
    if args.epochs is not None:
        overrides.append(f"train.epochs={args.epochs}")
    if args.seed is not None:
        overrides.append(f"train.seed={args.seed}")
    if args.resume:
        if args.out is None:
            raise CliError("--resume needs --out RUN_DIR (the run to continue)")
        try:
            saved = read_config(Path(args.out) / CONFIG_FILE)
        except FileNotFoundError as err:
            raise _user_error(err) from None
        if args.preset is not None and args.preset != saved.name:
            raise CliError(f"--preset {args.preset} does not match the run's preset "
                           f"{saved.name!r}; omit --preset when resuming")
        config = RunConfig.from_dict(apply_overrides(saved.to_dict(), overrides))
        out = Path(args.out)
    else:
        from bitlogic.train import DEFAULT_PRESET

        config = load_preset(args.preset or DEFAULT_PRESET, overrides)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path(args.out) if args.out is not None else Path("runs") / f"{config.name}-{stamp}"
    try:
        result = train(config, out, data_dir=args.data_dir, resume=args.resume,
                       verbose=not args.quiet)
    except (FileExistsError, FileNotFoundError) as err:
        # A run already in --out, nothing to resume, or dataset files not downloaded.
        raise _user_error(err) from None
    if result.run_dir is not None:  # rank 0 only
        s = result.summary
        print(f"run: {result.run_dir}")
        print(f"best epoch {s['best_epoch']} of {s['epochs_run']}"
              + (" (stopped early)" if s["stopped_early"] else ""))
        print(f"test accuracy: soft {s['test_soft_acc']:.4f}  discrete "
              f"{s['test_discrete_acc']:.4f}  (gap {s['test_gap']:+.4f}, n={s['test_n']})")
        print(f"netlist: {result.run_dir / 'netlist.safetensors'} ({s['gates']} gates)")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from bitlogic.train import evaluate, evaluate_packed
    from bitlogic.train.splits import load_split

    art = _resolve(args.path)
    config = art.config()
    if config is None and args.split == "val":
        raise CliError("--split val needs the run's config, which this netlist does not record")
    if args.dataset is not None:
        config = _with_dataset(config, args.dataset)
    if config is None:
        raise CliError(f"{args.path} does not say which dataset it was trained on; "
                       f"pass --dataset NAME")
    try:
        x, y = load_split(config, args.split, args.data_dir)
    except FileNotFoundError as err:  # dataset files not downloaded, or a wrong --data-dir
        raise _user_error(err) from None
    if len(y) == 0:
        raise CliError(f"the {args.split} split of this run is empty (dataset.val_fraction=0?)")
    report = {"path": str(args.path), "kind": art.kind, "dataset": config.dataset.name,
              "split": args.split}
    if art.kind == "netlist":
        r = evaluate_packed(art.netlist(), x, y, num_threads=args.threads, repeat=args.repeat)
        report.update(accuracy=r.accuracy, n=r.n, engine=f"packed ({r.backend})",
                      seconds=r.seconds, samples_per_s=r.samples_per_s, repeat=args.repeat)
    else:
        model = art.model()
        evaluate(model, x[:1], y[:1], soft=False)  # warm-up: one-time setup is not inference
        start = time.perf_counter()
        r = evaluate(model, x, y, soft=False)
        seconds = time.perf_counter() - start
        report.update(accuracy=r.accuracy, n=r.n, engine="torch (model.eval())",
                      seconds=seconds, samples_per_s=r.n / seconds if seconds else None)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['dataset']} {args.split}: accuracy {report['accuracy']:.4f} "
              f"on {report['n']} samples [{report['engine']}, "
              f"{report['samples_per_s']:,.0f} samples/s]")
    return 0


def _with_dataset(config: RunConfig | None, name: str) -> RunConfig:
    """``config`` (or the defaults) with its dataset replaced by ``name``."""
    from bitlogic.train.config import RunConfig

    base = config.to_dict() if config is not None else RunConfig().to_dict()
    base["dataset"]["name"] = name
    return RunConfig.from_dict(base)


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

    return emit_c(art.netlist(), out) or sorted(out.iterdir())


@EXPORTERS.register("verilog")
def _export_verilog(art: Artifact, out: Path, args: argparse.Namespace) -> list[Path]:
    from bitlogic.backends import emit_verilog

    return emit_verilog(art.netlist(), out, pipeline=args.pipeline) or sorted(out.iterdir())


def _export(args: argparse.Namespace) -> int:
    art = _resolve(args.path)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CliError(f"--out {out} exists and is not a directory") from None
    for path in EXPORTERS.get(args.format)(art, out, args):
        print(path)
    return 0


def _info(args: argparse.Namespace) -> int:
    from bitlogic.train import count_parameters

    art = _resolve(args.path)
    model = art.model()
    netlist = art.netlist()
    config = art.config()
    enc = netlist.encoding
    widths = [netlist.num_inputs] + [layer.n_out for layer in netlist.layers]
    layers = [{"layer": i, "inputs": widths[i], "neurons": layer.n_out, "rank": layer.rank}
              for i, layer in enumerate(netlist.layers)]
    info = {
        "path": str(args.path),
        "kind": art.kind,
        "preset": config.name if config is not None else netlist.metadata.get("preset"),
        "dataset": config.dataset.name if config is not None else netlist.metadata.get("dataset"),
        "encoding": None if enc is None else {"features": enc.num_features,
                                              "thresholds": enc.num_thresholds},
        "input_bits": netlist.num_inputs,
        "layers": layers,
        "num_classes": netlist.num_classes,
        "tau": netlist.tau,
        "neurons": sum(layer.n_out for layer in netlist.layers),
        "luts_by_rank": {str(k): v for k, v in netlist.lut_counts_by_rank().items()},
        "gates": netlist.num_gates,
        "parameters": count_parameters(model) if model is not None else None,
        "modules": _module_summary(netlist),
    }
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"{info['path']}: {art.kind}, preset {info['preset']}, dataset {info['dataset']}")
    if enc is not None:
        print(f"encoder: {enc.num_features} features x {enc.num_thresholds} thresholds "
              f"= {netlist.num_inputs} input bits")
    else:
        print(f"inputs: {netlist.num_inputs} bits")
    print(f"{'layer':>5} {'inputs':>8} {'neurons':>8} {'rank':>4}")
    for row in layers:
        print(f"{row['layer']:>5} {row['inputs']:>8} {row['neurons']:>8} {row['rank']:>4}")
    if info["modules"]:
        print(f"{'module':>14} {'output shape':>14} {'levels':>6} {'LUTs':>9}")
        for row in info["modules"]:
            shape = "x".join(str(n) for n in row["output_shape"])
            print(f"{row['module']:>14} {shape:>14} {row['netlist_layers']:>6} {row['luts']:>9}")
    print(f"groupsum: {netlist.num_classes} classes x {netlist.group_size}, tau {netlist.tau:g}")
    ranks = ", ".join(f"rank {k}: {v}" for k, v in info["luts_by_rank"].items())
    params = info["parameters"] if info["parameters"] is not None else "n/a (netlist only)"
    print(f"neurons: {info['neurons']}  LUTs by rank: {ranks}  gates: {info['gates']}  "
          f"parameters: {params}")
    return 0


def _module_summary(netlist) -> list[dict]:
    """The freezer's per-module rows (kind, output shape, netlist levels, LUTs), if recorded."""
    try:
        rows = json.loads(netlist.metadata.get("modules", "[]"))
    except json.JSONDecodeError:
        return []  # free-text metadata from elsewhere: nothing to list
    return rows if isinstance(rows, list) else []


def _synth_report(args: argparse.Namespace) -> int:
    from bitlogic.backends import synth_report

    netlist = _resolve(args.path).netlist()
    try:
        report = synth_report(netlist, target=args.target, timeout=args.timeout)
    except RuntimeError as err:  # yosys missing or failing is the user's environment
        raise CliError(str(err)) from None
    if args.json:
        print(json.dumps(report, default=str))
        return 0
    for key, value in report.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        print(f"{key}: {value}")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from bitlogic.train import list_presets, load_preset

    if args.show is not None:
        print(load_preset(args.show).to_yaml(), end="")
        return 0
    for name in list_presets():
        print(f"{name:16s} {load_preset(name).description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bitlogic`` command."""
    from bitlogic.backends.synth import FLOWS

    parser = argparse.ArgumentParser(prog="bitlogic", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"bitlogic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a preset end to end")
    p.add_argument("--preset", help="preset name or YAML path (default: digits-tiny)")
    p.add_argument("--data-dir", help="dataset directory (default: $BITLOGIC_DATA)")
    p.add_argument("--out", help="run directory (default: runs/<preset>-<time>)")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--seed", type=int, help="override train.seed")
    p.add_argument("--set", action="extend", nargs="+", metavar="KEY=VALUE",
                   help="override config keys, e.g. --set model.widths=[256,256] "
                        "train.batch_size=100 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=_train)

    p = sub.add_parser("eval", help="accuracy of a run (model.eval()) or a netlist (packed)")
    p.add_argument("path", metavar="RUN_DIR_OR_NETLIST")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--data-dir", help="dataset directory (default: $BITLOGIC_DATA)")
    p.add_argument("--dataset", help="dataset name, for a netlist that does not record it")
    p.add_argument("--threads", type=_positive_int,
                   help="packed engine threads (default: all cores)")
    p.add_argument("--repeat", type=_positive_int, default=1,
                   help="netlist: time the split tiled N times (stable samples/s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_eval)

    p = sub.add_parser("export", help="write a netlist, C or Verilog bundle")
    p.add_argument("path", metavar="CHECKPOINT_OR_NETLIST")
    p.add_argument("--format", required=True, choices=EXPORTERS.names())
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--pipeline", action="store_true", help="verilog: register every layer")
    p.set_defaults(func=_export)

    p = sub.add_parser("info", help="layers, neurons, LUTs by rank, parameters, gates")
    p.add_argument("path", metavar="RUN_DIR_OR_NETLIST")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_info)

    p = sub.add_parser("synth-report", help="estimated FPGA resources of a netlist")
    p.add_argument("path", metavar="NETLIST")
    p.add_argument("--target", default="lut6", choices=FLOWS.names())
    p.add_argument("--timeout", type=float, help="seconds before yosys is stopped")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_synth_report)

    p = sub.add_parser("presets", help="list the presets, or print one resolved")
    p.add_argument("--show", metavar="NAME", help="print this preset as YAML")
    p.set_defaults(func=_presets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from bitlogic.train.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ConfigError) as err:  # anything else is a bug: keep its traceback
        if os.environ.get("BITLOGIC_DEBUG"):
            raise
        print(f"bitlogic: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
