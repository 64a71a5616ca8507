"""Where a preset's training step spends its time: forward per module, backward, optimizer.

Builds the preset's model (random init, no data needed), runs training steps on
random inputs and prints the median step split into forward, backward and
optimizer time, and the forward and backward time of every top-level module
(module hooks, see :class:`ModuleTimes`). It does so with every layer soft,
then in the first epoch that hardens a layer and in the preset's last epoch
(the layers ``train.harden_epochs`` hardens by then frozen), each twice: with
the float forward, and with the frozen front on the packed engine as the
trainer runs it (:mod:`bitlogic.train.packed_front`).

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
import warnings
from pathlib import Path

import torch
from torch import nn

from bitlogic.data.registry import DATASETS
from bitlogic.native import flush_denormals, keep_freed_memory
from bitlogic.train import load_preset
from bitlogic.train.harden import harden_for_epoch
from bitlogic.train.model import build_model
from bitlogic.train.packed_front import FrontCache, PackedFront

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
        for (name, t0), (_next, t1) in zip(events[:-1], events[1:], strict=True):
            self.backward[name].append(t1 - t0)
        self._events = []

    def clear(self) -> None:
        for kept in (*self.forward.values(), *self.backward.values()):
            kept.clear()

    def median_ms(self, name: str) -> tuple[float, float]:
        """Median forward and backward milliseconds (NaN when the module never ran)."""
        return tuple(1000 * statistics.median(v) if v else float("nan")
                     for v in (self.forward[name], self.backward[name]))


def profile(model: nn.Sequential, front: PackedFront | None, optimizer: torch.optim.Optimizer,
            times: ModuleTimes, x: torch.Tensor, y: torch.Tensor, steps: int
            ) -> dict[str, float]:
    """Median milliseconds of a training step's parts over ``steps`` steps (3 warm-up first)."""
    model.train()
    parts: dict[str, list[float]] = {"forward": [], "packed front": [], "backward": [],
                                     "optimizer": []}
    for step in range(steps + 3):
        if step == 3:
            times.clear()
            for kept in parts.values():
                kept.clear()
        t0 = time.perf_counter()
        h = front(x) if front is not None else x
        t1 = time.perf_counter()
        out = front.rest(h) if front is not None else model(x)
        loss = nn.functional.cross_entropy(out, y)
        t2 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        times.end_backward()
        t3 = time.perf_counter()
        optimizer.step()
        t4 = time.perf_counter()
        for key, seconds in zip(parts, (t2 - t0, t1 - t0, t3 - t2, t4 - t3), strict=True):
            parts[key].append(seconds)
    return {key: 1000 * statistics.median(v) for key, v in parts.items()}


def print_stage(label: str, ms: dict[str, float], times: ModuleTimes) -> None:
    step = ms["forward"] + ms["backward"] + ms["optimizer"]
    print(f"\n{label}: step {step:.0f} ms = forward {ms['forward']:.0f} "
          f"+ backward {ms['backward']:.0f} + optimizer {ms['optimizer']:.0f}")
    if ms["packed front"] > 0.01:
        print(f"  {'packed front':<16} forward {ms['packed front']:7.1f} ms")
    for name in times.names:
        forward_ms, backward_ms = times.median_ms(name)
        if forward_ms == forward_ms:  # modules inside the packed front never run (NaN)
            print(f"  {name:<16} forward {forward_ms:7.1f} ms  backward {backward_ms:7.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cifar10-s")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a preset key, as `bitlogic train --set` does")
    args = parser.parse_args(argv)

    # the first logic module's input needs no gradient; ModuleTimes handles that
    warnings.filterwarnings("ignore", message="Full backward hook is firing")
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
    stages: list[tuple[int | None, bool]] = [(None, False)]  # (0-based epoch, packed front)
    hardening = sorted({e for e in config.train.harden_epochs if e is not None})
    for epoch in (hardening[0], config.train.epochs) if hardening else ():
        stages += [(epoch - 1, False), (epoch - 1, True)]
    fronts = FrontCache()
    for epoch, packed in stages:
        label, front = "every layer soft", None
        if epoch is not None:
            hard = harden_for_epoch(model, config.train.harden_epochs, epoch)
            front = fronts.get(model, torch.device("cpu")) if packed else None
            label = f"epoch {epoch + 1} ({hard} logic layers hardened, " + (
                f"modules 0-{front.length - 1} on the packed engine)" if front else
                "float forward)")
        print_stage(label, profile(model, front, optimizer, times, x, y, args.steps), times)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
