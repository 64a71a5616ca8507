"""Forward/backward time of one LogicDense(784, 8000) layer at batch 128.

For every parametrization at ranks 2 and 6 (difflogic: rank 2 only), with the
pure-PyTorch reference path (``BITLOGIC_NO_NATIVE=1`` semantics via
``bitlogic.kernels.use_kernels(False)`` when the kernels package exists) and,
when available, the fused kernels, measured in the same run.

Usage: python benchmarks/layer_step.py [--threads 2] [--batch 128] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, machine_description  # noqa: E402

from bitlogic.layers import LogicDense  # noqa: E402
from bitlogic.parametrizations import list_parametrizations  # noqa: E402


def kernel_modes():
    """(label, context factory) pairs: the reference, and the kernels if present."""
    try:
        from bitlogic import kernels
    except ImportError:
        return [("reference", contextlib.nullcontext)]
    modes = [("reference", lambda: kernels.use_kernels(False))]
    if kernels.available():
        modes.append(("fused", lambda: kernels.use_kernels(True)))
    return modes


def step_time(layer: LogicDense, x: torch.Tensor) -> tuple[float, float]:
    def forward():
        with torch.no_grad():
            layer(x)

    def forward_backward():
        layer.zero_grad(set_to_none=True)
        layer(x).sum().backward()

    return best_time(forward, repeats=3), best_time(forward_backward, repeats=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" /
                        "layer_step.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.batch, 784)
    lines = [
        "# LogicDense(784, 8000) forward / forward+backward, batch "
        f"{args.batch}, {args.threads} threads",
        "",
        f"Machine: {machine_description()}",
        "",
        "| parametrization | rank | path | forward ms | fwd+bwd ms | samples/s (fwd+bwd) |",
        "|---|---|---|---|---|---|",
    ]
    for name in list_parametrizations():
        for rank in ([2] if name == "difflogic" else [2, 6]):
            layer = LogicDense(784, 8000, name, rank).train()
            for label, ctx in kernel_modes():
                with ctx():
                    fwd, fb = step_time(layer, x)
                row = (f"| {name} | {rank} | {label} | {fwd * 1e3:.1f} | {fb * 1e3:.1f} | "
                       f"{args.batch / fb:,.0f} |")
                print(row, flush=True)
                lines.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
