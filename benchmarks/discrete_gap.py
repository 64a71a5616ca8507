"""Where a trained run's soft-to-discrete gap comes from, module by module.

The soft network (training-mode forward, no sampling noise for ``soft``
parametrizations) and the discrete one (``model.eval()``, what the netlist
computes) are scored on validation rows. Then each logic module in turn runs
discrete inside the otherwise soft network (its input rounded to 0/1, then
its ``eval`` forward): the accuracy it costs is that module's share of the
gap. The shares need not add up to the gap, since the modules interact.

Usage::

    python benchmarks/discrete_gap.py runs/cifar10-s --data-dir DATA [--rows 2000]

Prints a Markdown table; ``--output FILE`` also writes it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

from bitlogic.layers import LogicConv2d, LogicDense
from bitlogic.train import read_config
from bitlogic.train.runs import load_run
from bitlogic.train.splits import load_split

LOGIC_MODULES = (LogicConv2d, LogicDense)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> float:
    """Share of ``y`` predicted, in the modes the modules are in now."""
    right = 0
    with torch.no_grad():
        for s in range(0, len(x), batch):
            right += int((model(x[s : s + batch]).argmax(1) == y[s : s + batch]).sum())
    return right / len(x)


def _round_input(module: nn.Module, args: tuple) -> tuple:
    """The module's input rounded to 0/1, as its discrete forward requires."""
    return ((args[0] > 0.5).to(args[0].dtype), *args[1:])


def gap_by_module(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> list[tuple]:
    """``[(name, kind, soft accuracy with this module discrete)]`` plus the two ends."""
    model.eval()
    discrete = accuracy(model, x, y)
    model.train()
    soft = accuracy(model, x, y)
    rows = [("(all soft)", "", soft), ("(all discrete)", "", discrete)]
    for name, module in model.named_modules():
        if isinstance(module, LOGIC_MODULES):
            hook = module.register_forward_pre_hook(_round_input)
            module.eval()
            rows.append((name, type(module).__name__, accuracy(model, x, y)))
            module.train()
            hook.remove()
    model.eval()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run directory from bitlogic train")
    parser.add_argument("--data-dir", default=None, help="dataset directory")
    parser.add_argument("--rows", type=int, default=2000, help="validation rows scored")
    parser.add_argument("--which", default="best", choices=("best", "last"),
                        help="the run's best or last weights")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be at least 1, got {args.rows}")
    config = read_config(args.run / "config.yaml")
    model = load_run(args.run, args.which)
    x, y = load_split(config, "val", args.data_dir)
    x, y = x[: args.rows], y[: args.rows]
    rows = gap_by_module(model, x, y)
    soft = rows[0][2]
    lines = [f"Discrete gap of `{args.run}` ({args.which} weights, {len(x)} validation rows)",
             "", "| module | kind | soft accuracy | cost against all soft |", "|---|---|---|---|"]
    lines += [f"| {name} | {kind} | {acc:.2%} | {soft - acc:+.2%} |" for name, kind, acc in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output is not None:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
