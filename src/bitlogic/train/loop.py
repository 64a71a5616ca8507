"""``train``: the training loop, from a config to a run directory with a netlist.

Determinism and resume: everything random is seeded from ``train.seed`` (model
init, validation split, shuffling) and the epoch's shuffle order depends only
on ``(seed, epoch)``. A checkpoint after every epoch stores the model, the
optimizer, all RNG states and the loop state, so ``resume=True`` continues
bit-identically from the last completed epoch. The learning rate and the
temperature are pure functions of epoch and step, so they need no state.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from ..native import flush_denormals, keep_freed_memory
from . import distributed as D
from .bookkeeping import LoopState, epoch_line, epoch_row, judge_epoch
from .config import RunConfig
from .epoch import EpochResult, lr_at, train_epoch
from .evaluate import evaluate
from .finish import finish_run
from .metrics import MetricsLog
from .packed_front import FrontCache
from .parts import build_optimizer, build_parts, seed_everything
from .plots import write_plots
from .resume import checkpoint_meta, resume_run, save_run
from .rundir import claim_run_dir, record_resume
from .runs import CHECKPOINT_FILE, CONFIG_FILE, write_config
from .splits import RunData
from .table_data import record_table
from .views import run_views

__all__ = ["TrainResult", "build_optimizer", "lr_at", "seed_everything", "train"]

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


class _Run:
    """State of one training run on one rank."""

    def __init__(self, config: RunConfig, out_dir: Path | None, ctx: D.DistContext,
                 data_dir: str | os.PathLike[str] | None, verbose: bool):
        self.config = config
        self.ctx = ctx
        self.out = out_dir if ctx.is_main else None
        self.verbose = verbose and ctx.is_main
        parts = build_parts(config, data_dir, ctx, with_test=self.out is not None)
        self.data: RunData = parts.data
        self.test_split = parts.test_split
        self.model, self.optimizer = parts.model, parts.optimizer
        self.steps_per_epoch, self.temperature = parts.steps_per_epoch, parts.temperature
        self.state = LoopState()
        self.log = MetricsLog(self.out)
        # Cumulative wall time over every session of this run (resumes included).
        self.wall_before = 0.0
        self.session_start = time.perf_counter()
        self.train_x = self.data.train_x.to(ctx.device)
        self.train_y = self.data.train_y.to(ctx.device)
        self.fronts = FrontCache(config.train.packed_front, config.train.num_threads)

    # -- persistence (see resume.py) -------------------------------------------------

    def save(self, improved: bool) -> None:
        if self.out is not None:
            meta = checkpoint_meta(self.config, self.data, self.state, self.ctx.world_size,
                                   self.log.rows)
            save_run(self.out, self.model, self.optimizer, meta, device=self.ctx.device,
                     improved=improved)

    def resume(self, path: Path) -> dict[str, list[Any]]:
        """Continue from ``path``; returns what the current config changes."""
        resumed = resume_run(path, self.config, self.model, self.optimizer, self.ctx.device)
        self.state = resumed.state
        self.log = MetricsLog(self.out, resumed.rows)
        self.log.write()
        if self.log.rows:
            self.wall_before = self.log.rows[-1].get("wall_s") or 0.0
        return resumed.changes

    # -- training ------------------------------------------------------------------

    def end_epoch(self, result: EpochResult, seconds: float) -> None:
        """Validate, track the best model and early stopping, log, checkpoint, plot."""
        t = self.config.train
        d = self.data
        front = self.fronts.get(self.model, self.ctx.device)
        views = run_views(self.config, self.model)
        soft = evaluate(self.model, d.val_x, d.val_y, soft=True, batch_size=t.eval_batch_size,
                        device=self.ctx.device, front=front, views=views)
        hard = evaluate(self.model, d.val_x, d.val_y, soft=False, batch_size=t.eval_batch_size,
                        device=self.ctx.device, front=front, views=views)
        self.state, improved = judge_epoch(self.state, hard, step=result.step,
                                           min_delta=t.min_delta, patience=t.patience)
        samples = self.steps_per_epoch * t.batch_size
        self.log.append(epoch_row(
            self.state, result, soft, hard, improved=improved,
            temperature=self.temperature(self.state.step - 1),
            lr=self.optimizer.param_groups[0]["lr"], seconds=seconds, samples=samples,
            wall_s=self.wall_before + time.perf_counter() - self.session_start))
        self.save(improved)
        # Plots cost about a second; redraw per epoch only when that is noise next to
        # the epoch itself (long runs, where watching the curves matters). The end
        # of training always draws them.
        if self.out is not None and seconds >= _PLOT_EVERY_EPOCH_AFTER_S:
            write_plots(self.log.rows, self.out)
        if self.verbose:
            from tqdm import tqdm

            tqdm.write(epoch_line(self.state.epoch, result, soft, hard, improved=improved,
                                  seconds=seconds, samples=samples), file=sys.stderr)

    def run(self) -> TrainResult:
        from tqdm import tqdm

        t = self.config.train
        net = D.wrap_model(self.model, self.ctx)
        remaining = 0 if self.state.stopped_early else max(0, t.epochs - self.state.epoch)
        bar = tqdm(total=remaining * self.steps_per_epoch * t.batch_size, unit="sample",
                   unit_scale=True, dynamic_ncols=True, disable=not self.verbose,
                   file=sys.stderr, desc=self.config.name,
                   # a log file (no terminal) gets a line every 30 s, not every batch
                   mininterval=0.1 if sys.stderr.isatty() else 30.0)
        with bar:
            while self.state.epoch < t.epochs and not self.state.stopped_early:
                start = time.perf_counter()
                result = train_epoch(
                    net, self.model, self.optimizer, self.train_x, self.train_y,
                    config=self.config, epoch=self.state.epoch, step=self.state.step,
                    temperature=self.temperature, feature_shape=self.data.feature_shape,
                    ctx=self.ctx, bar=bar, fronts=self.fronts)
                self.end_epoch(result, time.perf_counter() - start)
        model, summary = finish_run(self.model, self.config, self.state, self.log, out=self.out,
                                    test_split=self.test_split, device=self.ctx.device,
                                    world_size=self.ctx.world_size,
                                    temperature=self.temperature,
                                    steps_per_epoch=self.steps_per_epoch)
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
    memory and serves large blocks from the heap too
    (:func:`bitlogic.native.keep_freed_memory`).

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
                record_resume(run.out, run.state.epoch, changes)
        if run.out is not None and not (resume and (run.out / CONFIG_FILE).is_file()):
            write_config(config, run.out / CONFIG_FILE)
        return run.run()
    finally:
        if lock is not None:
            lock.release()
        D.teardown(ctx)
