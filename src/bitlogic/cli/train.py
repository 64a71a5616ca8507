"""``bitlogic train``: train a preset, or a user's table (``--data``), into a run directory."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bitlogic.cli.errors import CliError, user_error

if TYPE_CHECKING:
    from bitlogic.train.config import RunConfig

# The preset of `train --data FILE` without --preset: distributive thermometer, LUTs, GroupSum.
TABLE_PRESET = "tabular"


def add_parser(sub) -> None:
    """Register ``train`` on the subparsers ``sub``."""
    p = sub.add_parser("train", help="train a preset end to end")
    p.add_argument("--preset", help="preset name or YAML path (default: digits-tiny; "
                                    f"with --data: {TABLE_PRESET})")
    p.add_argument("--data", metavar="FILE",
                   help="train on this .csv or .npz table (numeric features, one label column)")
    p.add_argument("--target", metavar="COLUMN",
                   help="--data: the label column (default: the last) or .npz label array "
                        "(default: y)")
    p.add_argument("--data-dir", help="dataset directory (default: $BITLOGIC_DATA)")
    p.add_argument("--out", help="run directory (default: runs/<preset>-<time>)")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--seed", type=int, help="override train.seed")
    p.add_argument("--set", action="extend", nargs="+", metavar="KEY=VALUE",
                   help="override config keys, e.g. --set model.widths=[256,256] "
                        "train.batch_size=100 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out that is not a bitlogic run")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, then print the run directory, best epoch, test accuracy and netlist."""
    from bitlogic.train import apply_overrides, load_preset, train
    from bitlogic.train.config import RunConfig
    from bitlogic.train.runs import latest_config

    overrides = list(args.set or [])
    if args.epochs is not None:
        overrides.append(f"train.epochs={args.epochs}")
    if args.seed is not None:
        overrides.append(f"train.seed={args.seed}")
    if args.target is not None and args.data is None:
        raise CliError("--target names the label column of --data FILE; pass --data too")
    if args.resume:
        if args.data is not None:
            raise CliError("--data starts a new run; omit it when resuming (the run records "
                           "its data)")
        if args.out is None:
            raise CliError("--resume needs --out RUN_DIR (the run to continue)")
        try:
            saved = latest_config(args.out)  # the last session's; config.yaml is the first's
        except FileNotFoundError as err:
            raise user_error(err) from None
        if args.preset is not None and args.preset != saved.name:
            raise CliError(f"--preset {args.preset} does not match the run's preset "
                           f"{saved.name!r}; omit --preset when resuming")
        config = RunConfig.from_dict(apply_overrides(saved.to_dict(), overrides))
        out = Path(args.out)
    else:
        from bitlogic.train import DEFAULT_PRESET

        default = TABLE_PRESET if args.data is not None else DEFAULT_PRESET
        config = load_preset(args.preset or default, overrides)
        if args.data is not None:
            config = _with_table(config, args.data, args.target, overrides)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        label = Path(args.data).stem if args.data is not None else config.name
        out = Path(args.out) if args.out is not None else Path("runs") / f"{label}-{stamp}"
    try:
        result = train(config, out, data_dir=args.data_dir, resume=args.resume,
                       verbose=not args.quiet, force=args.force)
    except (FileExistsError, FileNotFoundError) as err:
        # A run already in --out, nothing to resume, or dataset files not downloaded.
        raise user_error(err) from None
    if result.run_dir is not None:  # rank 0 only
        s = result.summary
        print(f"run: {result.run_dir}")
        print(f"best epoch {s['best_epoch']} of {s['epochs_run']}"
              + (" (stopped early)" if s["stopped_early"] else ""))
        print(f"test accuracy: soft {s['test_soft_acc']:.4f}  discrete "
              f"{s['test_discrete_acc']:.4f}  (gap {s['test_gap']:+.4f}, n={s['test_n']})")
        print(f"netlist: {result.run_dir / 'netlist.safetensors'} ({s['gates']} gates)")
    return 0


def _with_table(config: RunConfig, path: str, target: str | None,
                overrides: list[str]) -> RunConfig:
    """``config`` training on the table at ``path``; prints what was found in it."""
    from bitlogic.train.config import RunConfig
    from bitlogic.train.table_data import record_table

    dataset = dataclasses.replace(config.dataset, path=path, target=target)
    try:
        config = record_table(RunConfig.from_dict(
            dataclasses.replace(config, dataset=dataset).to_dict()))
    except (FileNotFoundError, ValueError) as err:  # the table is the user's input
        raise user_error(err) from None
    d = config.dataset
    talk = os.environ.get("RANK", "0") == "0"  # under torchrun, one rank speaks
    features = ", ".join(d.feature_names) if d.feature_names else "from the .npz array"
    if talk:
        print(f"data: {path}: {len(d.feature_min)} features ({features}); target "
              f"{d.target!r}, {len(d.class_names)} classes: {', '.join(d.class_names)}")
    widths = config.model.widths
    k = len(d.class_names)
    if widths[-1] % k and not any(o.startswith("model.widths=") for o in overrides):
        # GroupSum needs equal groups; round the preset's last width up rather than fail.
        fitted = [*widths[:-1], -(-widths[-1] // k) * k]
        if talk:
            print(f"model.widths {widths} -> {fitted} (the last layer splits into {k} equal "
                  f"class groups)", file=sys.stderr)
        model = dataclasses.replace(config.model, widths=fitted)
        config = dataclasses.replace(config, model=model)
    return config
