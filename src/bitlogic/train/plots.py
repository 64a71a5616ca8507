"""PNG plots of a run's metrics: ``loss.png`` and ``accuracy.png``.

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


def _render(rows: list[dict[str, Any]], curves: list[tuple[str, str]], ylabel: str,
            title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for key, label in curves:
        xs, ys = _series(rows, key)
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def write_plots(rows: list[dict[str, Any]], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Draw the loss and the soft-vs-discrete accuracy curves into ``out_dir``.

    Args:
        rows: metric rows as written by :class:`~bitlogic.train.metrics.MetricsLog`.
        out_dir: the run directory.

    Returns:
        The two PNG paths.
    """
    out = Path(out_dir)
    loss = _render(rows, [("train_loss", "train (soft)"), ("val_loss", "validation (soft)")],
                   "cross-entropy", "Loss")
    acc = _render(
        rows,
        [("train_soft_acc", "train soft"), ("val_soft_acc", "validation soft"),
         ("val_discrete_acc", "validation discrete")],
        "accuracy", "Soft (train-mode) vs discrete (eval-mode) accuracy",
    )
    return [atomic_write(out / LOSS_PNG, loss), atomic_write(out / ACCURACY_PNG, acc)]
