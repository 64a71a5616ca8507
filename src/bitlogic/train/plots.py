"""PNG plots of a run's metrics: ``loss.png`` and ``accuracy.png``.

Both mark the best epoch (the model the run keeps and freezes) with a dashed line.

Rendered with matplotlib's Agg canvas directly (no pyplot), so plotting never
touches the process-wide backend and works without a display.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

from .checkpoint import atomic_write

LOSS_PNG = "loss.png"
ACCURACY_PNG = "accuracy.png"


def _series(rows: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(r["epoch"], r[key]) for r in rows
              if isinstance(r.get(key), (int, float)) and not math.isnan(r[key])]
    return [p[0] for p in points], [p[1] for p in points]


def best_epoch(rows: list[dict[str, Any]]) -> int | None:
    """The epoch of the last row flagged ``best`` (the model the run keeps), if any."""
    flagged = [r["epoch"] for r in rows if r.get("best") in (True, 1, "True", "true", "1")]
    return flagged[-1] if flagged else None


def _render(rows: list[dict[str, Any]], curves: list[tuple[str, str]], ylabel: str,
            title: str, stopped_at: int | None) -> bytes:
    fig = draw_curves(rows, curves, ylabel, title, stopped_at)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def draw_curves(rows: list[dict[str, Any]], curves: list[tuple[str, str]], ylabel: str,
                title: str, stopped_at: int | None = None) -> Any:
    """A matplotlib ``Figure`` of ``(key, label)`` curves over the epochs, with the markers.

    The best epoch (:func:`best_epoch`) is a dashed line and ``stopped_at`` (the
    epoch early stopping ended the run) a dotted one, both in the legend.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for key, label in curves:
        xs, ys = _series(rows, key)
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, label=label)
    best = best_epoch(rows)
    if best is not None:
        ax.axvline(best, color="0.4", linestyle="--", linewidth=1, label=f"best epoch {best}")
    if stopped_at is not None:
        ax.axvline(stopped_at, color="tab:red", linestyle=":", linewidth=1,
                   label=f"early stop (epoch {stopped_at})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    return fig


def write_plots(rows: list[dict[str, Any]], out_dir: str | os.PathLike[str],
                stopped_early: bool = False) -> list[Path]:
    """Draw the loss and the soft-vs-discrete accuracy curves into ``out_dir``.

    Args:
        rows: metric rows as written by :class:`~bitlogic.train.metrics.MetricsLog`.
        out_dir: the run directory.
        stopped_early: mark the last epoch as where early stopping ended the run.

    Returns:
        The two PNG paths.
    """
    out = Path(out_dir)
    stopped_at = rows[-1]["epoch"] if stopped_early and rows else None
    loss = _render(rows, [("train_loss", "train (soft)"), ("val_loss", "validation (soft)")],
                   "cross-entropy", "Loss", stopped_at)
    acc = _render(
        rows,
        [("train_soft_acc", "train soft"), ("val_soft_acc", "validation soft"),
         ("val_discrete_acc", "validation discrete")],
        "accuracy", "Soft (train-mode) vs discrete (eval-mode) accuracy", stopped_at,
    )
    return [atomic_write(out / LOSS_PNG, loss), atomic_write(out / ACCURACY_PNG, acc)]
