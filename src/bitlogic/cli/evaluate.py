"""``bitlogic eval``: accuracy of a run (``model.eval()``) or a netlist (packed engine)."""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING

from bitlogic.cli.errors import CliError, positive_int, resolve, user_error

if TYPE_CHECKING:
    from bitlogic.train.config import RunConfig


def add_parser(sub) -> None:
    """Register ``eval`` on the subparsers ``sub``."""
    p = sub.add_parser("eval", help="accuracy of a run (model.eval()) or a netlist (packed)")
    p.add_argument("path", metavar="RUN_DIR_OR_NETLIST")
    p.add_argument("--split", choices=("train", "val", "test"),
                   help="split of the run's data (default: test)")
    p.add_argument("--data", metavar="FILE",
                   help="evaluate on every row of this .csv/.npz table instead (a run "
                        "trained with train --data; same columns and classes)")
    p.add_argument("--data-dir", help="dataset directory (default: $BITLOGIC_DATA)")
    p.add_argument("--dataset", help="dataset name, for a netlist that does not record it")
    p.add_argument("--threads", type=positive_int,
                   help="packed engine threads (default: all cores)")
    p.add_argument("--repeat", type=positive_int, default=1,
                   help="netlist: time the split tiled N times (stable samples/s)")
    p.add_argument("--no-simplify", action="store_true",
                   help="netlist: run the packed engine on the netlist as stored, unsimplified")
    p.add_argument("--per-class", action="store_true",
                   help="also print the accuracy within each class (its recall); --json "
                        "always holds it as class_accuracy")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the accuracy (and speed) of ``args.path`` on one split, or on ``--data``."""
    from bitlogic.train.splits import load_split

    art = resolve(args.path)
    config = art.config()
    if args.data is not None:
        if args.split is not None or args.dataset is not None:
            raise CliError("--data evaluates every row of FILE; drop --split and --dataset")
        raw = art.kind == "netlist" and art.netlist().takes_raw_features
        return _report(args, art, config, *_table_rows(args, config, raw), args.data, "all",
                       _class_names(config))
    args.split = args.split or "test"
    if config is None and args.split == "val":
        raise CliError("--split val needs the run's config, which this netlist does not record")
    if args.dataset is not None:
        config = _with_dataset(config, args.dataset)
    if config is None:
        raise CliError(f"{args.path} does not say which dataset it was trained on; "
                       f"pass --dataset NAME")
    raw = art.kind == "netlist" and art.netlist().takes_raw_features
    try:
        x, y = load_split(config, args.split, args.data_dir, raw=raw)
    except FileNotFoundError as err:  # dataset files not downloaded, or a wrong --data-dir
        raise user_error(err) from None
    except ValueError as err:
        if config.dataset.path is None:
            raise  # not a user's table: a bug, keep the traceback
        # The run's table changed (or moved) since training.
        raise CliError(f"{err}; pass --data FILE to evaluate on a table as new data") from None
    if len(y) == 0:
        raise CliError(f"the {args.split} split of this run is empty (dataset.val_fraction=0?)")
    return _report(args, art, config, x, y, config.dataset.name, args.split,
                   _class_names(config))


def _class_names(config: RunConfig | None) -> tuple[str, ...]:
    """The class names the run recorded (a table) or its built-in dataset has; () if none."""
    from bitlogic.data.registry import DATASETS

    if config is None:
        return ()
    if config.dataset.class_names:
        return tuple(config.dataset.class_names)
    if config.dataset.name in DATASETS.names():
        return tuple(DATASETS.get(config.dataset.name).class_names)
    return ()


def _table_rows(args: argparse.Namespace, config: RunConfig | None, raw: bool):
    """(x, y) tensors of every row of ``args.data``, as the run's table was prepared.

    ``raw``: the features before scaling, for a netlist that stores the scaling.
    """
    import torch

    from bitlogic.data.table_source import table_rows
    from bitlogic.train.table_data import table_source

    if config is None or config.dataset.path is None:
        trained_on = "" if config is None else f" (it was trained on {config.dataset.name!r})"
        raise CliError(f"--data needs a run trained on a table with `bitlogic train --data`"
                       f"{trained_on}: only such a run records the columns, classes and "
                       f"scaling to read FILE with")
    try:
        ds = table_rows(table_source(config), args.data)
    except (FileNotFoundError, ValueError) as err:
        raise user_error(err) from None
    return torch.from_numpy(ds.raw_x if raw else ds.x), torch.from_numpy(ds.y)


def _report(args: argparse.Namespace, art, config: RunConfig | None, x, y, dataset: str,
            split: str, class_names: tuple[str, ...]) -> int:
    """Evaluate ``art`` (whose run config is ``config``) on ``(x, y)`` and print the
    report (text or ``--json``)."""
    from bitlogic.train import evaluate, evaluate_packed
    from bitlogic.train.views import run_views

    report = {"path": str(args.path), "kind": art.kind, "dataset": dataset, "split": split}
    if art.kind == "netlist":
        r = evaluate_packed(art.netlist(), x, y, num_threads=args.threads, repeat=args.repeat,
                            simplify=not args.no_simplify)
        report.update(accuracy=r.accuracy, n=r.n, engine=f"packed ({r.backend})",
                      seconds=r.seconds, samples_per_s=r.samples_per_s, repeat=args.repeat)
    else:
        model = art.model()
        # a flip ensemble's model is scored as its netlist is: over both views
        views = run_views(config, model) if config is not None else None
        # warm-up: one-time setup is not inference
        evaluate(model, x[:1], y[:1], soft=False, views=views)
        start = time.perf_counter()
        r = evaluate(model, x, y, soft=False, views=views)
        seconds = time.perf_counter() - start
        report.update(accuracy=r.accuracy, n=r.n, engine="torch (model.eval())",
                      seconds=seconds, samples_per_s=r.n / seconds if seconds else None)
    report["class_accuracy"] = list(r.class_accuracy)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['dataset']} {split}: accuracy {report['accuracy']:.4f} "
          f"on {report['n']} samples [{report['engine']}, "
          f"{report['samples_per_s']:,.0f} samples/s]")
    if args.per_class:
        import numpy as np

        counts = np.bincount(np.asarray(y).reshape(-1), minlength=len(r.class_accuracy))
        for c, (acc, count) in enumerate(zip(r.class_accuracy, counts, strict=True)):
            name = f"{c} {class_names[c]}" if c < len(class_names) else str(c)
            shown = "-" if acc is None else f"{acc:.4f}"
            print(f"  class {name}: accuracy {shown} on {count} samples")
    return 0


def _with_dataset(config: RunConfig | None, name: str) -> RunConfig:
    """``config`` (or the defaults) with its dataset replaced by ``name``."""
    from bitlogic.train.config import RunConfig

    base = config.to_dict() if config is not None else RunConfig().to_dict()
    base["dataset"] = {"name": name, "val_fraction": base["dataset"]["val_fraction"]}
    return RunConfig.from_dict(base)
