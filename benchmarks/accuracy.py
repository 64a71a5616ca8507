"""Accuracy benchmark: train presets, report discrete test accuracy, time and size.

Writes ``benchmarks/results/accuracy.md``: per preset the discrete (netlist)
test accuracy measured on the packed CPU engine, the soft accuracy, the best
validation accuracy, epochs, training wall time on this machine, neurons,
gates, trainable parameters and packed-engine throughput.

Each reported run's learning curves (per epoch: training loss and soft
accuracy, validation soft and discrete accuracy, the gap, samples/s, learning
rate) go to ``benchmarks/results/curves/PRESET.md`` beside a copy of the run's
``accuracy.png``.

Usage::

    python benchmarks/accuracy.py                                # digits-tiny, breast-cancer
    python benchmarks/accuracy.py --presets mnist-s --epochs 5 --data-dir /path/to/data
    python benchmarks/accuracy.py --presets digits-tiny --from-run mnist-dwn=runs/mnist-dwn
    python benchmarks/accuracy.py --keep --from-run mnist-conv=runs/mnist-conv  # other rows stay

``--from-run PRESET=RUN_DIR`` reports a run trained earlier (for instance a long
run in the background, finished with ``bitlogic train --resume``) instead of
training again; its time is the run's recorded cumulative wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

from bitlogic.netlist import LogicNetlist
from bitlogic.train import evaluate_packed, load_preset, train
from bitlogic.train.metrics import read_metrics
from bitlogic.train.plots import ACCURACY_PNG
from bitlogic.train.rundir import RESUMES_FILE
from bitlogic.train.runs import latest_config
from bitlogic.train.splits import load_split

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "accuracy.md"
# Published figures, all trained on GPUs (gates of conv nets count each shared
# LUT once; this table's "gates" column counts the unrolled netlist).
PUBLISHED = {
    "mnist-s": "97.69% (difflogic, small)",
    "mnist-dwn": "98.46% (DWN)",
    "mnist-dwn-s": "97.80% (DWN sm, 2,100 LUTs on a Zynq)",
    "mnist-conv": "98.46% / 99.23% (LogicTreeNet-S / M, 147K / 566K gates); 99.15% (BitLogic)",
    "fashion-conv": "89.12% (DWN); 93.81% (BitLogic)",
    "cifar10-s": "60.38% (LogicTreeNet-S, 0.40M gates); 72.36% (BitLogic, 384K)",
    "cifar10-m": "71.01% (LogicTreeNet-M, 3.08M gates)",
}
TARGETS = {"mnist-s": 0.975, "mnist-dwn": 0.980, "mnist-conv": 0.990, "fashion-conv": 0.900,
           "cifar10-s": 0.600, "cifar10-m": 0.600}


def _row(name: str, run_dir: Path, data_dir: str | None, wall_s: float, note: str) -> dict:
    config = latest_config(run_dir)
    metrics = read_metrics(run_dir)
    summary = metrics["summary"]
    netlist = LogicNetlist.load(run_dir / "netlist.safetensors")
    x, y = load_split(config, "test", data_dir, raw=netlist.takes_raw_features)
    packed = evaluate_packed(netlist, x, y, repeat=max(1, 100_000 // len(y)))
    return {
        "preset": name,
        "dataset": config.dataset.name,
        "test_discrete": packed.accuracy,
        "test_soft": summary["test_soft_acc"],
        "val_discrete": summary.get("best_val_discrete_acc"),
        "epochs": f"{summary['epochs_run']} (best {summary['best_epoch']})",
        "wall_s": wall_s,
        "neurons": summary["neurons"],
        "gates": netlist.num_gates,
        "parameters": summary["parameters"],
        "engine": f"{packed.samples_per_s:,.0f}/s ({packed.backend})",
        "note": note,
        "target": TARGETS.get(name),
        "run_dir": str(run_dir),
    }


def write_curves(name: str, run_dir: Path, out_dir: Path) -> Path:
    """Write ``out_dir/NAME.md``, the run's per-epoch curves, and copy its accuracy plot."""
    config = latest_config(run_dir)
    hardened = config.train.harden_epochs
    lines = [f"# Learning curves: {name}", "",
             f"Run `{run_dir}` ({config.dataset.name}, {config.train.epochs} epochs"
             + (f", train.harden_epochs=[{', '.join(str(e or 'null') for e in hardened)}]"
                if hardened else "") + "). "
             "Validation accuracies are on the split carved from the training data; "
             "*gap* is soft minus discrete.", "",
             "| epoch | lr | train loss | train soft | val soft | val discrete | gap | "
             "hardened layers | samples/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in read_metrics(run_dir)["epochs"]:
        hard = sum(e is not None and r["epoch"] >= e for e in hardened)
        lines.append(
            f"| {r['epoch']}{' *' if r.get('best') else ''} | {r['lr']:.4g} | "
            f"{r['train_loss']:.4f} | {_fmt_acc(r['train_soft_acc'])} | "
            f"{_fmt_acc(r['val_soft_acc'])} | {_fmt_acc(r['val_discrete_acc'])} | "
            f"{100 * r['gap']:+.2f} | {hard} | {r['samples_per_s'] or 0:,.0f} |")
    lines += ["", "`*`: a new best validation discrete accuracy (the model kept).", ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    plot = run_dir / ACCURACY_PNG
    if plot.is_file():
        shutil.copyfile(plot, out_dir / f"{name}.png")
        lines += [f"![{name} accuracy per epoch]({name}.png)", ""]
    path = out_dir / f"{name}.md"
    path.write_text("\n".join(lines))
    return path


def _fmt_acc(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def previous_rows(report: str, replaced: set[str]) -> tuple[list[str], list[str]]:
    """Table lines and note lines of an earlier report, for presets not in ``replaced``."""
    table, notes = [], []
    for line in report.splitlines():
        cells = line.split("|")
        if line.startswith("| ") and len(cells) > 2 and cells[1].strip() not in (
                "preset", *replaced):
            table.append(line)
        elif line.startswith("- **") and line[4:].split("**")[0] not in replaced:
            notes.append(line)
    return table, notes


def render(rows: list[dict], command: str, kept: tuple[list[str], list[str]] = ([], [])
           ) -> str:
    """The markdown report: the ``kept`` (table, notes) lines of an earlier one, then ``rows``."""
    cpu = os.cpu_count()
    lines = [
        "# Accuracy benchmark",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
        f"{cpu} CPU cores, Python {platform.python_version()}, torch {torch.__version__}.",
        "",
        "*Discrete* accuracy is the frozen netlist's, measured on the packed CPU engine "
        "(bit-exact with `model.eval()`); *soft* is the training-mode relaxation. The "
        "model is the best epoch by validation accuracy (validation carved from the "
        "training split); the test split is only reported. *Wall* is the training "
        "run's wall time on this machine (data loading, validation and checkpoints "
        "included); timings on a shared machine are noisy.",
        "",
        "| preset | dataset | test discrete | test soft | best val discrete | epochs | "
        "wall | neurons | gates | parameters | packed engine | target / published |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *kept[0],
    ]
    for r in rows:
        target = "" if r["target"] is None else f">= {100 * r['target']:.1f}%"
        if r["preset"] in PUBLISHED:
            target += f"{'; ' if target else ''}published {PUBLISHED[r['preset']]}"
        if r["target"] is not None:
            target += " (met)" if r["test_discrete"] >= r["target"] else " (not met)"
        lines.append(
            f"| {r['preset']} | {r['dataset']} | {_fmt_acc(r['test_discrete'])} | "
            f"{_fmt_acc(r['test_soft'])} | {_fmt_acc(r['val_discrete'])} | {r['epochs']} | "
            f"{r['wall_s']:.0f} s | {r['neurons']:,} | {r['gates']:,} | {r['parameters']:,} | "
            f"{r['engine']} | {target or '-'} |"
        )
    notes = kept[1] + [f"- **{r['preset']}**: {r['note']}" for r in rows if r["note"]]
    if kept[0]:
        notes.append(f"- Rows of {', '.join(line.split('|')[1].strip() for line in kept[0])} "
                     f"are kept from the previous report (`--keep`); see its history in git.")
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Train (or collect) the requested presets and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="*", default=None,
                        help="presets to train (default: digits-tiny breast-cancer, or none "
                             "with --from-run)")
    parser.add_argument("--from-run", action="append", default=[], metavar="PRESET=RUN_DIR",
                        help="report an existing finished run instead of training")
    parser.add_argument("--epochs", type=int, help="override train.epochs for trained presets")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override applied to every trained preset")
    parser.add_argument("--note", action="append", default=[], metavar="PRESET=TEXT",
                        help="a remark printed under the table")
    parser.add_argument("--data-dir", help="dataset directory (default: $BITLOGIC_DATA)")
    parser.add_argument("--runs-dir", default=str(ROOT / "runs" / "bench"),
                        help="where the benchmark's run directories go")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="markdown file to write")
    parser.add_argument("--keep", action="store_true",
                        help="keep the rows of presets not reported now from the existing --out")
    args = parser.parse_args(argv)

    if args.presets is None:
        args.presets = [] if args.from_run else ["digits-tiny", "breast-cancer"]
    notes = dict(item.split("=", 1) for item in args.note)
    rows = []
    overrides = list(args.set) + ([f"train.epochs={args.epochs}"] if args.epochs else [])
    for name in args.presets:
        config = load_preset(name, overrides)
        run_dir = Path(args.runs_dir) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        start = time.perf_counter()
        train(config, run_dir, data_dir=args.data_dir)
        wall = time.perf_counter() - start
        note = notes.get(name, "")
        if overrides:
            note = (note + " " if note else "") + f"overrides: `{' '.join(overrides)}`"
        rows.append(_row(name, run_dir, args.data_dir, wall, note))
    for item in args.from_run:
        name, _, path = item.partition("=")
        run_dir = Path(path)
        summary = read_metrics(run_dir)["summary"]
        # The config the run ended with: a resume may change keys (resumes.jsonl says which).
        config = latest_config(run_dir)
        changed = _changed_keys(load_preset(name).to_dict(), config.to_dict())
        note = notes.get(name, "")
        if changed:
            note = (note + " " if note else "") + f"overrides: `{' '.join(changed)}`"
        resumes = _resume_changes(run_dir)
        if resumes:
            note = (note + " " if note else "") + resumes
        wall = summary.get("train_wall_s")
        if not wall:  # runs from before the wall_s column: optimizer time alone
            rows_ = read_metrics(run_dir)["epochs"]
            wall = sum(r["epoch_time_s"] for r in rows_)
            note += " Wall time is the sum of the epochs' training time (validation excluded)."
        rows.append(_row(name, run_dir, args.data_dir, wall, note))
    for row in rows:
        write_curves(row["preset"], Path(row["run_dir"]), Path(args.out).parent / "curves")
    shown = _without_notes(list(argv if argv is not None else sys.argv[1:]))
    command = "python benchmarks/accuracy.py " + " ".join(shown)
    out = Path(args.out)
    kept = (previous_rows(out.read_text(), {r["preset"] for r in rows})
            if args.keep and out.is_file() else ([], []))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(rows, command.strip(), kept))
    print(Path(args.out).read_text())
    return 0


def _resume_changes(run_dir: Path) -> str:
    """One sentence per resume of the run that changed its config, from ``resumes.jsonl``."""
    path = run_dir / RESUMES_FILE
    if not path.is_file():
        return ""
    said = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if entry["changed"]:
            keys = ", ".join(f"{k}: {before} -> {after}"
                             for k, (before, after) in entry["changed"].items())
            said.append(f"Resumed after epoch {entry['epoch']} with {keys}.")
    return " ".join(said)


def _without_notes(argv: list[str]) -> list[str]:
    shown, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--note":
            skip = True
        elif not arg.startswith("--note="):
            shown.append(arg)
    return shown


def _changed_keys(preset: dict, actual: dict, prefix: str = "") -> list[str]:
    changed = []
    for key, value in actual.items():
        if not prefix and key == "description":  # prose about the preset, not a setting
            continue
        ref = preset.get(key)
        if isinstance(value, dict) and isinstance(ref, dict) and value:
            changed += _changed_keys(ref, value, prefix + key + ".")
        elif value != ref:
            changed.append(f"{prefix}{key}={value}")
    return changed


if __name__ == "__main__":
    raise SystemExit(main())
