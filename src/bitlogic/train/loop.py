"""``train``: the training loop, from a config to a run directory with a netlist.

Determinism and resume: everything random is seeded from ``train.seed`` (model
init, validation split, shuffling) and the epoch's shuffle order depends only
on ``(seed, epoch)``. A checkpoint after every epoch stores the model, the
optimizer, all RNG states and the loop state, so ``resume=True`` continues
bit-identically from the last completed epoch. The learning rate and the
temperature are pure functions of epoch and step, so they need no state.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..native import flush_denormals, keep_freed_memory
from . import distributed as D
from .augment import random_flip, random_shift
from .checkpoint import (
    CHECKPOINT_VERSION,
    Checkpoint,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from .config import ConfigError, RunConfig
from .evaluate import evaluate
from .families import LR_SCHEDULES, OPTIMIZERS
from .metrics import MetricsLog
from .model import build_model, count_neurons, count_parameters
from .plots import write_plots
from .rundir import claim_run_dir, config_changes, record_resume
from .runs import (
    BEST_FILE,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    NETLIST_FILE,
    ArtifactError,
    export_netlist,
    write_config,
)
from .splits import RunData, load_split, prepare_data
from .table_data import record_table

# The sections whose change would make a checkpoint's tensors meaningless.
_STRUCTURAL = ("dataset", "encoder", "model")
_PLOT_EVERY_EPOCH_AFTER_S = 10.0


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        model: the best-by-validation model (the last one without validation
            data), on the CPU, in eval mode.
        rows: the per-epoch metric rows.
        summary: best epoch, final test accuracies, sizes, ...
        run_dir: the run directory, or ``None`` when nothing was written.
    """

    model: nn.Sequential
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    run_dir: Path | None


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def lr_at(config: RunConfig, epoch: int) -> float:
    """Learning rate of (0-based) ``epoch``, by the ``lr_schedule`` section."""
    s = config.lr_schedule
    return LR_SCHEDULES.get(s.kind)(s, config.optimizer.lr, epoch, config.train.epochs)


def build_optimizer(config: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer of the ``optimizer`` section over all trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    return OPTIMIZERS.build(config.optimizer.kind, config.optimizer, params)


class _Run:
    """State of one training run on one rank."""

    def __init__(self, config: RunConfig, out_dir: Path | None, ctx: D.DistContext,
                 data_dir: str | os.PathLike[str] | None, verbose: bool):
        self.config = config
        self.ctx = ctx
        self.out = out_dir if ctx.is_main else None
        self.data_dir = data_dir
        self.verbose = verbose and ctx.is_main
        t = config.train
        if t.num_threads is not None:
            torch.set_num_threads(t.num_threads)
        seed_everything(t.seed)
        self.data: RunData = prepare_data(config, data_dir)
        _check_encoder_makes_bits(config, self.data.train_x)
        # Every split the run needs is read before the first step: a missing test
        # file must not surface only after hours of training.
        self.test_split = load_split(config, "test", data_dir) if self.out is not None else None
        self.model = build_model(config, self.data.num_features, self.data.num_classes,
                                 fit_x=self.data.train_x,
                                 feature_shape=self.data.feature_shape).to(ctx.device)
        self.optimizer = build_optimizer(config, self.model)
        self.steps_per_epoch = min(self.data.train_x.shape[0] // t.batch_size,
                                   t.max_steps_per_epoch or sys.maxsize)
        if self.steps_per_epoch == 0:
            raise ConfigError(f"train.batch_size={t.batch_size} is larger than the "
                              f"{self.data.train_x.shape[0]} training samples")
        D.per_rank_batch(t.batch_size, ctx)  # fail before training, not at step 1
        if t.shift_pixels and len(self.data.feature_shape) != 3:
            raise ConfigError(f"train.shift_pixels needs an image dataset; "
                              f"{config.dataset.name!r} samples have shape "
                              f"{self.data.feature_shape}")
        from bitlogic.schedules import TemperatureSchedule

        tc = config.temperature
        steps = tc.steps or max(1, t.epochs * max(1, self.steps_per_epoch))
        self.temperature = TemperatureSchedule(tc.kind, tc.start, tc.end, steps)
        self.epoch = 0
        self.step = 0
        self.best_epoch = 0
        self.best_score = -math.inf
        self.bad_epochs = 0
        self.stopped_early = False
        self.log = MetricsLog(self.out)
        # Cumulative wall time over every session of this run (resumes included).
        self.wall_before = 0.0
        self.session_start = time.perf_counter()
        self.train_x = self.data.train_x.to(ctx.device)
        self.train_y = self.data.train_y.to(ctx.device)

    # -- persistence -------------------------------------------------------------

    def _meta(self, kind: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            "num_features": self.data.num_features,
            "num_classes": self.data.num_classes,
            "feature_shape": list(self.data.feature_shape),
            "epoch": self.epoch,
            "step": self.step,
            "best_epoch": self.best_epoch,
            "best_score": None if math.isinf(self.best_score) else self.best_score,
            "bad_epochs": self.bad_epochs,
            "stopped_early": self.stopped_early,
            "world_size": self.ctx.world_size,
            "rows": self.log.rows,
        }

    def save(self, improved: bool) -> None:
        """Best model first, then the full checkpoint (see ``resume`` for why)."""
        if self.out is None:
            return
        state = self.model.state_dict()
        if improved:
            save_checkpoint(self.out / BEST_FILE, Checkpoint(state, self._meta("model")))
        save_checkpoint(self.out / CHECKPOINT_FILE, Checkpoint(
            state, self._meta("checkpoint"), self.optimizer.state_dict(),
            capture_rng(self.ctx.device)))

    def resume(self, path: Path) -> dict[str, list[Any]]:
        """Continue from ``path``; returns what the current config changes (see
        :func:`~bitlogic.train.rundir.config_changes`).

        ``best.safetensors`` may be one epoch ahead of the checkpoint if a kill
        fell between the two writes; the replayed epoch is bit-identical, so it
        rewrites the same best model."""
        try:
            ckpt = load_checkpoint(path)
        except ValueError as err:
            raise ArtifactError(f"cannot resume: {err}") from None
        meta = ckpt.meta
        if meta.get("kind") != "checkpoint":
            raise ValueError(f"{path} is a {meta.get('kind')!r} file, not a training checkpoint")
        saved = RunConfig.from_dict(meta["config"]).to_dict()
        now = self.config.to_dict()
        for section in _STRUCTURAL:
            if saved[section] != now[section]:
                raise ConfigError(f"cannot resume {path}: the {section!r} section differs from "
                                  f"the checkpoint's ({saved[section]} vs {now[section]})")
        self.model.load_state_dict({k: v.to(self.ctx.device) for k, v in
                                    ckpt.model_state.items()})
        self.optimizer.load_state_dict(ckpt.optimizer_state)
        restore_rng(ckpt.rng_state)
        self.epoch, self.step = meta["epoch"], meta["step"]
        self.best_epoch, self.bad_epochs = meta["best_epoch"], meta["bad_epochs"]
        self.best_score = -math.inf if meta["best_score"] is None else meta["best_score"]
        # Judged by the current config, so raising train.patience (or clearing it)
        # lets a stopped run go on.
        patience = self.config.train.patience
        self.stopped_early = bool(patience) and self.bad_epochs >= patience
        self.log = MetricsLog(self.out, meta["rows"])
        self.log.write()
        if self.log.rows:
            self.wall_before = self.log.rows[-1].get("wall_s") or 0.0
        return config_changes(saved, now)

    # -- training ------------------------------------------------------------------

    def train_epoch(self, net: nn.Module, bar: Any) -> tuple[float, float]:
        from bitlogic.schedules import set_temperature

        t = self.config.train
        lr = lr_at(self.config, self.epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batches = D.epoch_batches(self.train_x.shape[0], t.batch_size, self.epoch, t.seed,
                                  self.ctx, t.max_steps_per_epoch)
        self.model.train()
        totals = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, samples
        for idx in batches:
            set_temperature(self.model, self.temperature(self.step), self.config.temperature.target)
            idx = idx.to(self.ctx.device)
            xb, yb = self.train_x[idx], self.train_y[idx]
            if t.shift_pixels:
                xb = random_shift(xb, self.data.feature_shape, t.shift_pixels)
            if t.flip:
                xb = random_flip(xb, self.data.feature_shape)
            scores = net(xb)
            loss = F.cross_entropy(scores, yb)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            totals += torch.tensor([float(loss.detach()) * len(idx),
                                    float((scores.argmax(1) == yb).sum()), len(idx)],
                                   dtype=torch.float64)
            bar.update(len(idx) * self.ctx.world_size)
            bar.set_postfix(epoch=self.epoch + 1, loss=f"{float(loss.detach()):.4f}",
                            refresh=False)
        if self.ctx.distributed:
            totals = totals.to(self.ctx.device)
            torch.distributed.all_reduce(totals)
            totals = totals.cpu()
        return float(totals[0] / totals[2]), float(totals[1] / totals[2])

    def end_epoch(self, train_loss: float, train_acc: float, seconds: float) -> None:
        t = self.config.train
        d = self.data
        soft = evaluate(self.model, d.val_x, d.val_y, soft=True,
                        batch_size=t.eval_batch_size, device=self.ctx.device)
        hard = evaluate(self.model, d.val_x, d.val_y, soft=False,
                        batch_size=t.eval_batch_size, device=self.ctx.device)
        self.epoch += 1
        # Without validation data the newest model counts as the best one.
        score = hard.accuracy if hard.n else float(self.epoch)
        improved = score > self.best_score + (t.min_delta if hard.n else 0.0)
        if improved:
            self.best_score, self.best_epoch, self.bad_epochs = score, self.epoch, 0
        else:
            self.bad_epochs += 1
        if hard.n and t.patience and self.bad_epochs >= t.patience:
            self.stopped_early = True
        samples = self.steps_per_epoch * t.batch_size
        self.log.append({
            "epoch": self.epoch, "step": self.step,
            "train_loss": train_loss, "train_soft_acc": train_acc,
            "val_loss": soft.loss, "val_soft_acc": soft.accuracy,
            "val_discrete_acc": hard.accuracy, "gap": soft.accuracy - hard.accuracy,
            "temperature": self.temperature(self.step), "lr": self.optimizer.param_groups[0]["lr"],
            "epoch_time_s": seconds, "samples_per_s": samples / seconds if seconds else None,
            "wall_s": self.wall_before + time.perf_counter() - self.session_start,
            "best": improved,
        })
        self.save(improved)
        # Plots cost about a second; redraw per epoch only when that is noise next to
        # the epoch itself (long runs, where watching the curves matters). The end
        # of training always draws them.
        if self.out is not None and seconds >= _PLOT_EVERY_EPOCH_AFTER_S:
            write_plots(self.log.rows, self.out)
        if self.verbose:
            from tqdm import tqdm

            tqdm.write(
                f"epoch {self.epoch:3d}  loss {train_loss:.4f}  train soft {train_acc:.4f}  "
                f"val soft {soft.accuracy:.4f}  val discrete {hard.accuracy:.4f}  "
                f"gap {soft.accuracy - hard.accuracy:+.4f}  {samples / seconds:,.0f} samples/s"
                + ("  *" if improved else ""), file=sys.stderr)

    def run(self) -> TrainResult:
        from tqdm import tqdm

        t = self.config.train
        net = D.wrap_model(self.model, self.ctx)
        remaining = 0 if self.stopped_early else max(0, t.epochs - self.epoch)
        bar = tqdm(total=remaining * self.steps_per_epoch * t.batch_size, unit="sample",
                   unit_scale=True, dynamic_ncols=True, disable=not self.verbose,
                   file=sys.stderr, desc=self.config.name,
                   # a log file (no terminal) gets a line every 30 s, not every batch
                   mininterval=0.1 if sys.stderr.isatty() else 30.0)
        with bar:
            while self.epoch < t.epochs and not self.stopped_early:
                start = time.perf_counter()
                loss, acc = self.train_epoch(net, bar)
                self.end_epoch(loss, acc, time.perf_counter() - start)
        return self.finish()

    def finish(self) -> TrainResult:
        """Reload the best model, report test accuracy, export the netlist (rank 0)."""
        if self.out is not None and (self.out / BEST_FILE).is_file():
            try:
                state = load_checkpoint(self.out / BEST_FILE).model_state
                self.model.load_state_dict({k: v.to(self.ctx.device) for k, v in state.items()})
            except (ValueError, RuntimeError) as err:  # torn by hand: keep the latest model
                warnings.warn(f"bitlogic: {err}; exporting the latest model instead",
                              RuntimeWarning, stacklevel=2)
        model = self.model.cpu().eval()
        summary: dict[str, Any] = {
            "preset": self.config.name, "dataset": self.config.dataset.name,
            "epochs_run": self.epoch, "steps": self.step, "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early, "world_size": self.ctx.world_size,
            "parameters": count_parameters(model),
            "neurons": count_neurons(self.model),
            "train_wall_s": self.log.rows[-1].get("wall_s") if self.log.rows else 0.0,
        }
        best = next((r for r in self.log.rows if r["epoch"] == self.best_epoch), None)
        if best is not None:
            summary.update(best_val_discrete_acc=best["val_discrete_acc"],
                           best_val_soft_acc=best["val_soft_acc"])
        if self.out is not None:
            x, y = self.test_split
            bs = self.config.train.eval_batch_size
            soft = evaluate(model, x, y, soft=True, batch_size=bs)
            hard = evaluate(model, x, y, soft=False, batch_size=bs)
            netlist = export_netlist(model, self.config, self.out / NETLIST_FILE)
            summary.update(test_soft_acc=soft.accuracy, test_discrete_acc=hard.accuracy,
                           test_gap=soft.accuracy - hard.accuracy, test_n=hard.n,
                           gates=netlist.num_gates)
            self.log.update_summary(**summary)
            write_plots(self.log.rows, self.out, stopped_early=self.stopped_early)
            # No end-of-training line here: the summary is returned, and the CLI prints it once.
        D.barrier(self.ctx)
        return TrainResult(model, self.log.rows, summary, self.out)


def train(
    config: RunConfig,
    out_dir: str | os.PathLike[str] | None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    verbose: bool = True,
    force: bool = False,
) -> TrainResult:
    """Train a model as ``config`` says and write a run directory.

    Under ``torchrun`` this runs data-parallel (see :mod:`bitlogic.train.distributed`);
    only rank 0 writes files and shows progress.

    Process-wide settings it makes (both speed, neither changes results beyond
    float rounding): subnormal floats flush to zero (``torch.set_flush_denormal``,
    see :func:`bitlogic.native.flush_denormals`), and glibc keeps freed heap
    memory mapped (:func:`bitlogic.native.keep_freed_memory`).

    Args:
        config: the resolved run config (e.g. from :func:`~bitlogic.train.load_preset`).
        out_dir: run directory to create or resume; ``None`` writes nothing (and
            skips the test evaluation and the export).
        data_dir: dataset directory (``None``: ``$BITLOGIC_DATA`` or the default).
        resume: continue from ``out_dir/checkpoint.safetensors``. ``config.yaml``
            keeps the config the run started with; what the resume changes is
            appended to ``resumes.jsonl``.
        verbose: progress bar and per-epoch lines on stderr.
        force: write into a non-empty ``out_dir`` that is not a bitlogic run.

    Returns:
        A :class:`TrainResult` with the best model.

    Raises:
        FileExistsError: ``out_dir`` already holds a checkpoint and ``resume`` is False.
        RunDirError: ``out_dir`` is being written by another process, or is a
            non-empty directory that is not a run (without ``force``).
        FileNotFoundError: ``resume`` is True and there is no checkpoint.
        ConfigError: a config that cannot be built or resumed.
    """
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / CHECKPOINT_FILE if out is not None else None
    if resume and (ckpt is None or not ckpt.is_file()):
        raise FileNotFoundError(f"cannot resume: {ckpt} does not exist")
    if not resume and ckpt is not None and ckpt.is_file():
        raise FileExistsError(f"{out} already holds a training checkpoint; resume it or choose "
                              f"another output directory")
    config = record_table(config)  # a dataset.path run: sha256, classes, scaling
    keep_freed_memory()  # steps re-allocate the same buffers; don't page them in each time
    flush_denormals()
    ctx = D.setup(config.train.device)
    lock = None
    try:
        if out is not None and ctx.is_main:
            lock = claim_run_dir(out, force=force)
        run = _Run(config, out, ctx, data_dir, verbose)
        if resume:
            changes = run.resume(ckpt)
            if run.out is not None:
                record_resume(run.out, run.epoch, changes)
        if run.out is not None and not (resume and (run.out / CONFIG_FILE).is_file()):
            write_config(config, run.out / CONFIG_FILE)
        return run.run()
    finally:
        if lock is not None:
            lock.release()
        D.teardown(ctx)


def _check_encoder_makes_bits(config: RunConfig, train_x: torch.Tensor) -> None:
    """Refuse ``encoder.kind=none`` on non-binary features: eval mode and the netlist read bits."""
    if config.encoder.kind != "none" or train_x.dtype == torch.bool:
        return
    bad = (train_x != 0) & (train_x != 1)
    if bool(bad.any()):
        value = train_x[tuple(int(i) for i in bad.nonzero()[0])].item()
        raise ConfigError(
            f"encoder.kind='none' needs binary (0/1) features, but dataset "
            f"{config.dataset.name!r} has values such as {value!r}; use encoder.kind="
            f"thermometer or distributive"
        )
