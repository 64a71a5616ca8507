"""``bitlogic presets``: list the presets, or print one resolved as YAML."""

from __future__ import annotations

import argparse

from bitlogic.cli.errors import CliError


def add_parser(sub) -> None:
    """Register ``presets`` on the subparsers ``sub``."""
    p = sub.add_parser("presets", help="list the presets, or print one (bitlogic presets NAME)")
    p.add_argument("name", nargs="?", metavar="NAME", help="print this preset as YAML")
    p.add_argument("--show", metavar="NAME", help="the same as NAME")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per preset, or the resolved YAML of the one named."""
    from bitlogic.train import list_presets, load_preset

    if args.name is not None and args.show is not None and args.name != args.show:
        raise CliError(f"presets: got NAME {args.name!r} and --show {args.show!r}; give one")
    name = args.name if args.name is not None else args.show
    if name is not None:
        print(load_preset(name).to_yaml(), end="")
        return 0
    for preset in list_presets():
        print(f"{preset:16s} {load_preset(preset).description}")
    return 0
