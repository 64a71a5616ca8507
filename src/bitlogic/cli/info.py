"""``bitlogic info``: layers, neurons, LUTs by rank, parameters and gates of an artifact."""

from __future__ import annotations

import argparse
import json

from bitlogic.cli.errors import resolve


def add_parser(sub) -> None:
    """Register ``info`` on the subparsers ``sub``."""
    p = sub.add_parser("info", help="layers, neurons, LUTs by rank, parameters, gates")
    p.add_argument("path", metavar="RUN_DIR_OR_NETLIST")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the structure of ``args.path`` as a table, or as one JSON object."""
    from bitlogic.train import count_parameters

    art = resolve(args.path)
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
        "raw_features": netlist.takes_raw_features,
        "scaling": _scaling(netlist),
        "layers": layers,
        "num_classes": netlist.num_classes,
        "tau": netlist.tau,
        "neurons": sum(layer.n_out for layer in netlist.layers),
        "luts_by_rank": {str(k): v for k, v in netlist.lut_counts_by_rank.items()},
        "gates": netlist.num_gates,
        "parameters": count_parameters(model) if model is not None else None,
        "modules": _module_summary(netlist),
        "table": _table(config),
        "recorded": _recorded(netlist),
    }
    if args.json:
        print(json.dumps(info))
        return 0
    if info["preset"] is None and info["dataset"] is None:
        known = ", ".join(f"{k} {', '.join(v)}" for k, v in info["recorded"].items())
        print(f"{info['path']}: {art.kind} frozen outside the trainer (no preset or dataset "
              f"recorded)" + (f"; {known}" if known else ""))
    else:
        print(f"{info['path']}: {art.kind}, preset {info['preset']}, "
              f"dataset {info['dataset']}")
    if info["table"] is not None:
        t = info["table"]
        print(f"table: {t['path']} (sha256 {t['sha256'][:12]}...), target {t['target']!r}, "
              f"classes: {', '.join(t['class_names'])}")
    if enc is not None:
        print(f"encoder: {enc.num_features} features x {enc.num_thresholds} thresholds "
              f"= {netlist.num_inputs} input bits")
    else:
        print(f"inputs: {netlist.num_inputs} bits")
    print(f"scaling: {_scaling_line(info['scaling'], enc is not None)}")
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


def _scaling(netlist) -> dict | None:
    """The input scaling a netlist stores (it then takes raw features), or ``None``."""
    if not netlist.takes_raw_features:
        return None
    scaling = netlist.encoding.scaling
    return {"kind": scaling.kind, "features": scaling.num_features, "clip": bool(scaling.clip)}


def _scaling_line(scaling: dict | None, has_encoding: bool) -> str:
    """Whether a caller passes raw features and, if so, how the netlist scales them."""
    if scaling is not None:
        clip = ", clipped to [0, 1]" if scaling["clip"] else ""
        return (f"raw features in ({scaling['kind']} scaling), "
                f"{scaling['features']} features{clip}")
    if has_encoding:
        return "none stored, pass the scaled features the model was trained on"
    return "none (no encoding), pass the input bits"


def _table(config) -> dict | None:
    """The recorded source of a run trained on a user's table, if it is one."""
    if config is None or config.dataset.path is None:
        return None
    d = config.dataset
    return {"path": d.path, "sha256": d.sha256 or "", "target": d.target,
            "class_names": list(d.class_names), "feature_names": list(d.feature_names)}


def _recorded(netlist) -> dict[str, list[str]]:
    """The freezer's lists of parametrization and connection classes, when present."""
    found = {}
    for key in ("parametrizations", "connections"):
        try:
            value = json.loads(netlist.metadata.get(key, "[]"))
        except json.JSONDecodeError:
            value = [netlist.metadata[key]]  # free text from elsewhere: show it as is
        if isinstance(value, list) and value:
            found[key] = [str(v) for v in value]
    return found


def _module_summary(netlist) -> list[dict]:
    """The freezer's per-module rows (kind, output shape, netlist levels, LUTs), if recorded."""
    try:
        rows = json.loads(netlist.metadata.get("modules", "[]"))
    except json.JSONDecodeError:
        return []  # free-text metadata from elsewhere: nothing to list
    return rows if isinstance(rows, list) else []
