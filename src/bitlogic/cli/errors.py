"""User errors of the command line, and the argument helpers that raise them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bitlogic.train.runs import Artifact

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def user_error(err: Exception) -> CliError:
    """``err`` as a `CliError` with the same message (a KeyError's unquoted)."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return CliError(message)


def resolve(path: str) -> Artifact:
    """The artifact at ``path``; a missing path or a foreign file is the user's error."""
    from bitlogic.train import resolve_artifact

    try:
        return resolve_artifact(path)
    except (FileNotFoundError, ValueError) as err:
        raise user_error(err) from None


def positive_int(text: str) -> int:
    """argparse ``type`` for counts (threads, repeats)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
