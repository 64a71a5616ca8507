"""Where a preset's training step spends its time: forward per module, backward, optimizer.

Builds the preset's model (random init, no data needed), runs training steps on
random inputs and prints the median step split into forward, backward and
optimizer time, and the forward and backward time of every top-level module
(module hooks, see :class:`ModuleTimes`). It does so twice: with every layer soft, and in the preset's last
epoch, with the layers ``train.harden_epochs`` hardens by then frozen.

Usage::

    python benchmarks/profile_step.py --preset cifar10-s [--batch 100] [--steps 10] \
        [--set model.conv='[{channels: 96}, ...]']
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


class ModuleTimes:
    """Forward and backward seconds of each top-level module of ``model``, per step.

    Forward: from a module's forward pre-hook to its forward hook. Backward:
    from the moment its output's gradient is ready (its backward pre-hook) to
    the next such moment of an earlier module, or to the end of
    ``loss.backward()`` (:meth:`end_backward`) for the first module that
    takes part, since a module whose input needs no gradient has no hook that
    fires when it is done.
    """

    def __init__(self, model: nn.Sequential) -> None:
        self.names = [f"{i}: {type(m).__name__}" for i, m in enumerate(model)]
        self.forward: dict[str, list[float]] = {name: [] for name in self.names}
        self.backward: dict[str, list[float]] = {name: [] for name in self.names}
        self._events: list[tuple[str, float]] = []
        for name, module in zip(self.names, model, strict=True):
            module.register_forward_pre_hook(self._hook(self.forward[name].append, -1))
            module.register_forward_hook(self._add(self.forward[name]))
            module.register_full_backward_pre_hook(
                lambda *_args, name=name: self._events.append((name, time.perf_counter())))

    @staticmethod
    def _hook(append, sign):
        return lambda *_args: append(sign * time.perf_counter())

    @staticmethod
    def _add(kept):
        def stop(*_args):
            kept[-1] += time.perf_counter()
        return stop

    def end_backward(self) -> None:
        """Close the step's backward: turn the recorded moments into durations."""
        events = self._events + [("end", time.perf_counter())]
        for (name, t0), (_next, t1) in zip(events, events[1:]):
            self.backward[name].append(t1 - t0)
        self._events = []

    def clear(self) -> None:
        for kept in (*self.forward.values(), *self.backward.values()):
            kept.clear()

    def median_ms(self, name: str) -> tuple[float, float]:
        """Median forward and backward milliseconds (NaN when the module never ran)."""
        return tuple(1000 * statistics.median(v) if v else float("nan")
                     for v in (self.forward[name], self.backward[name]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cifar10-s")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a preset key, as `bitlogic train --set` does")
    args = parser.parse_args(argv)

    keep_freed_memory()  # the process settings the trainer makes
    flush_denormals()
    torch.manual_seed(0)
    config = load_preset(args.preset, args.set)
    spec = DATASETS.get(config.dataset.name)
    shape = tuple(spec.feature_shape)
    features = math.prod(shape)
    model = build_model(config, features, spec.num_classes, feature_shape=shape)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.optimizer.lr)
    x = torch.rand(args.batch, features)
    y = torch.randint(0, spec.num_classes, (args.batch,))
    times = ModuleTimes(model)
    overrides = "".join(f", --set {item}" for item in args.set)
    print(f"{args.preset}{overrides}: batch {args.batch}, {torch.get_num_threads()} threads, "
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
                times.clear()
            t0 = time.perf_counter()
            loss = nn.functional.cross_entropy(model(x), y)
            t1 = time.perf_counter()
            optimizer.zero_grad()
            loss.backward()
            times.end_backward()
            t2 = time.perf_counter()
            optimizer.step()
            splits.append((t1 - t0, t2 - t1, time.perf_counter() - t2))
        forward, backward, opt = (1000 * statistics.median(s[i] for s in splits[3:])
                                  for i in range(3))
        print(f"\n{label}: step {forward + backward + opt:.0f} ms = forward {forward:.0f} "
              f"+ backward {backward:.0f} + optimizer {opt:.0f}")
        for name in times.names:
            forward_ms, backward_ms = times.median_ms(name)
            print(f"  {name:<16} forward {forward_ms:7.1f} ms  backward {backward_ms:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
