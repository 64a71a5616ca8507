"""Run the ``bitlogic`` command line in-process, as the CLI tests do."""

from __future__ import annotations

import contextlib
import io

import torch

from bitlogic.cli import main


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``bitlogic argv``; torch's thread count is restored."""
    out, err = io.StringIO(), io.StringIO()
    threads = torch.get_num_threads()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    torch.set_num_threads(threads)
    return code, out.getvalue(), err.getvalue()
