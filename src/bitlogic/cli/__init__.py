"""The bitlogic command line: train, eval, export, info, synth-report, presets.

Examples::

    bitlogic train --preset digits-tiny --out runs/digits
    bitlogic train --data table.csv --target label --out runs/table
    bitlogic train --out runs/digits --resume --epochs 20
    torchrun --nproc_per_node=2 -m bitlogic.cli train --preset mnist-s --out runs/mnist
    bitlogic eval runs/digits --split test --json
    bitlogic eval runs/digits/netlist.safetensors
    bitlogic export runs/digits --format verilog --out build/verilog
    bitlogic info runs/digits
    bitlogic synth-report runs/digits/netlist.safetensors --target lut6
    bitlogic presets digits-tiny

Bad input (a missing path, an unknown preset or config key) prints one line
``bitlogic: error: ...`` and exits with status 2; set ``BITLOGIC_DEBUG=1`` for
the traceback. Only `CliError` and `bitlogic.train.typed.ConfigError` count
as bad input: the commands turn the documented user-facing errors (a missing
file, a file that is not an artifact) into ``CliError`` where they call into
the library, so any other exception is a bug and keeps its traceback.

Each subcommand is one module here with ``add_parser(sub)`` and ``run(args)``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bitlogic import __version__
from bitlogic.cli import evaluate, export, info, presets, synth_report, train
from bitlogic.cli.errors import EXIT_USAGE, CliError
from bitlogic.cli.export import EXPORTERS

__all__ = ["EXIT_USAGE", "EXPORTERS", "CliError", "build_parser", "main"]

# The exit status of a command whose reader closed the pipe (128 + SIGPIPE), as Unix tools.
EXIT_BROKEN_PIPE = 141

DESCRIPTION = """\
bitlogic: train logic-gate / LUT networks, freeze them into a netlist, and
evaluate, inspect or export it (packed CPU engine, C, Verilog).

examples:
  bitlogic train --preset digits-tiny --out runs/digits
  bitlogic train --data table.csv --target label --out runs/table
  bitlogic eval runs/table
  bitlogic export runs/table --format c --out build/c
  bitlogic presets digits-tiny
"""

COMMANDS = (train, evaluate, export, info, synth_report, presets)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bitlogic`` command."""
    parser = argparse.ArgumentParser(prog="bitlogic", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"bitlogic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "train":  # before torch starts OpenMP: see prefer_passive_openmp_wait
        from bitlogic.native import prefer_passive_openmp_wait

        prefer_passive_openmp_wait()
    from bitlogic.train.config import ConfigError
    from bitlogic.train.runs import ArtifactError

    try:
        status = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe fails here, not at exit
        return status
    except (CliError, ConfigError, ArtifactError) as err:  # anything else is a bug: traceback
        if os.environ.get("BITLOGIC_DEBUG"):
            raise
        print(f"bitlogic: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `bitlogic info r | head -2`: the reader has all it wanted
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's StringIO): nothing left to flush
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)

