"""Where a preset's training step spends its time: forward per module, backward, optimizer.

Builds the preset's model (random init, no data needed), runs training steps on
random inputs and prints the median step split into forward, backward and
optimizer time, and the forward time of every top-level module (forward
hooks). It does so twice: with every layer soft, and in the preset's last
epoch, with the layers ``train.harden_epochs`` hardens by then frozen.

Usage::

    python benchmarks/profile_step.py --preset cifar10-s [--batch 100] [--steps 10]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from bitlogic.data.registry import DATASETS
from bitlogic.native import flush_denormals, keep_freed_memory
from bitlogic.train import load_preset
from bitlogic.train.harden import harden_for_epoch
from bitlogic.train.model import build_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_average, machine_description  # noqa: E402


def time_modules(model: nn.Sequential) -> dict[str, list[float]]:
    """Attach hooks that append each top-level module's forward seconds to the returned dict."""
    times: dict[str, list[float]] = {}
    for i, module in enumerate(model):
        name = f"{i}: {type(module).__name__}"
        times[name] = []

        def start(_m, _inp, name=name):
            times[name].append(-time.perf_counter())

        def stop(_m, _inp, _out, name=name):
            times[name][-1] += time.perf_counter()

        module.register_forward_pre_hook(start)
        module.register_forward_hook(stop)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cifar10-s")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)

    keep_freed_memory()  # the process settings the trainer makes
    flush_denormals()
    torch.manual_seed(0)
    config = load_preset(args.preset)
    spec = DATASETS.get(config.dataset.name)
    shape = tuple(spec.feature_shape)
    features = math.prod(shape)
    model = build_model(config, features, spec.num_classes, feature_shape=shape)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.optimizer.lr)
    x = torch.rand(args.batch, features)
    y = torch.randint(0, spec.num_classes, (args.batch,))
    times = time_modules(model)
    print(f"{args.preset}: batch {args.batch}, {torch.get_num_threads()} threads, "
          f"{machine_description()}, load average {load_average()}; "
          f"medians of {args.steps} steps")
    last_epoch = config.train.epochs - 1
    for label, epoch in (("every layer soft", None), (f"epoch {last_epoch + 1}", last_epoch)):
        if epoch is not None:
            hard = harden_for_epoch(model, config.train.harden_epochs, epoch)
            label += f" ({hard} logic layers hardened)"
        model.train()
        splits = []
        for step in range(args.steps + 3):  # 3 warm-up steps
            if step == 3:
                for kept in times.values():
                    kept.clear()
            t0 = time.perf_counter()
            loss = nn.functional.cross_entropy(model(x), y)
            t1 = time.perf_counter()
            optimizer.zero_grad()
            loss.backward()
            t2 = time.perf_counter()
            optimizer.step()
            splits.append((t1 - t0, t2 - t1, time.perf_counter() - t2))
        forward, backward, opt = (1000 * statistics.median(s[i] for s in splits[3:])
                                  for i in range(3))
        print(f"\n{label}: step {forward + backward + opt:.0f} ms = forward {forward:.0f} "
              f"+ backward {backward:.0f} + optimizer {opt:.0f}")
        for name, seconds in times.items():
            print(f"  forward {name:<16} {1000 * statistics.median(seconds):7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
