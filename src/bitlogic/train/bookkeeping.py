"""End-of-epoch bookkeeping: the loop state, best-model tracking, early stopping, the metrics row.

Pure functions over a small frozen :class:`LoopState`: after validating, the
loop asks :func:`judge_epoch` for the state after the epoch and whether it
improved, logs :func:`epoch_row` and prints :func:`epoch_line`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .epoch import EpochResult
from .evaluate import EvalResult


@dataclass(frozen=True)
class LoopState:
    """Where a run stands after its last completed epoch (a checkpoint stores it).

    Attributes:
        epoch: epochs completed.
        step: optimizer steps taken.
        best_epoch: the (1-based) epoch of the best model; 0 before the first.
        best_score: the best model's validation discrete accuracy (without
            validation data: its epoch); ``-inf`` before the first.
        bad_epochs: epochs since the last improvement.
        stopped_early: ``train.patience`` epochs passed without an improvement.
    """

    epoch: int = 0
    step: int = 0
    best_epoch: int = 0
    best_score: float = -math.inf
    bad_epochs: int = 0
    stopped_early: bool = False


def judge_epoch(state: LoopState, val: EvalResult, *, step: int, min_delta: float,
                patience: int | None) -> tuple[LoopState, bool]:
    """The state once epoch ``state.epoch + 1`` ends at ``step``, and whether it improved.

    ``val`` is the discrete (eval-mode) validation pass. An improvement must beat
    the best score by more than ``min_delta``. Without validation data
    (``val.n == 0``) the newest model counts as the best one and the run never
    stops early.
    """
    epoch = state.epoch + 1
    score = val.accuracy if val.n else float(epoch)
    improved = score > state.best_score + (min_delta if val.n else 0.0)
    if improved:
        best_score, best_epoch, bad_epochs = score, epoch, 0
    else:
        best_score, best_epoch = state.best_score, state.best_epoch
        bad_epochs = state.bad_epochs + 1
    stopped_early = state.stopped_early or bool(val.n and patience and bad_epochs >= patience)
    return LoopState(epoch, step, best_epoch, best_score, bad_epochs, stopped_early), improved


def epoch_row(state: LoopState, train: EpochResult, soft: EvalResult, hard: EvalResult, *,
              improved: bool, temperature: float, lr: float, seconds: float, samples: int,
              wall_s: float) -> dict[str, Any]:
    """The metrics row of the epoch that ended in ``state`` (columns: ``metrics.FIELDS``).

    Args:
        soft: the soft (train-mode) validation pass.
        hard: the discrete (eval-mode) validation pass.
        temperature: the schedule's temperature at the epoch's last step, the one
            it was validated at (hardening ramps scale it further per layer).
        seconds: the epoch's training time (optimizer steps only).
        samples: the samples it trained on.
        wall_s: the run's cumulative wall time, resumes included.
    """
    return {
        "epoch": state.epoch, "step": state.step,
        "train_loss": train.loss, "train_soft_acc": train.accuracy,
        "val_loss": soft.loss, "val_soft_acc": soft.accuracy,
        "val_discrete_acc": hard.accuracy, "gap": soft.accuracy - hard.accuracy,
        "temperature": temperature, "lr": lr,
        "epoch_time_s": seconds, "samples_per_s": samples / seconds if seconds else None,
        "wall_s": wall_s,
        "best": improved,
    }


def epoch_line(epoch: int, train: EpochResult, soft: EvalResult, hard: EvalResult, *,
               improved: bool, seconds: float, samples: int) -> str:
    """The per-epoch progress line (``*`` marks a new best model).

    The rate reads ``-`` for a 0-second epoch (the metrics row stores ``None``).
    """
    rate = f"{samples / seconds:,.0f}" if seconds else "-"
    return (
        f"epoch {epoch:3d}  loss {train.loss:.4f}  train soft {train.accuracy:.4f}  "
        f"val soft {soft.accuracy:.4f}  val discrete {hard.accuracy:.4f}  "
        f"gap {soft.accuracy - hard.accuracy:+.4f}  {rate} samples/s"
        + ("  *" if improved else ""))
