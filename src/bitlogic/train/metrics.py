"""Per-epoch metrics: one row per epoch, written as ``metrics.csv`` and ``metrics.json``.

Columns (``FIELDS``): the epoch and optimizer step reached, the mean training
loss and soft (train-mode) accuracy over the epoch's batches, the validation
loss, soft accuracy (train-mode forward) and discrete accuracy (eval-mode,
the accuracy the exported netlist has), the discretization gap (soft minus
discrete), temperature and learning rate at the end of the epoch, the epoch's
training time and throughput (optimizer steps only), the run's cumulative wall
time (validation and checkpoints included, over resumes too) and whether the
epoch is the best so far.
``metrics.json`` holds the same rows plus a ``summary`` object (best epoch,
final test accuracies, ...).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from .checkpoint import atomic_write

FIELDS = (
    "epoch",
    "step",
    "train_loss",
    "train_soft_acc",
    "val_loss",
    "val_soft_acc",
    "val_discrete_acc",
    "gap",
    "temperature",
    "lr",
    "epoch_time_s",
    "samples_per_s",
    "wall_s",
    "best",
)
CSV_NAME = "metrics.csv"
JSON_NAME = "metrics.json"


class MetricsLog:
    """Rows of epoch metrics and a summary, persisted atomically after every change.

    Args:
        out_dir: the run directory, or ``None`` to keep everything in memory
            (ranks other than 0 under ``torchrun``).
        rows: rows restored from a checkpoint when resuming.
    """

    def __init__(self, out_dir: str | os.PathLike[str] | None, rows: list[dict] | None = None):
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.rows: list[dict[str, Any]] = [dict(r) for r in rows or []]
        self.summary: dict[str, Any] = {}

    def append(self, row: dict[str, Any]) -> None:
        """Add one epoch's row (keys from ``FIELDS``) and rewrite the files.

        Raises:
            ValueError: ``row`` has keys outside ``FIELDS``.
        """
        unknown = set(row) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown metric names {sorted(unknown)}; allowed: {FIELDS}")
        self.rows.append({k: row.get(k) for k in FIELDS})
        self.write()

    def update_summary(self, **values: Any) -> None:
        """Merge ``values`` into the summary and rewrite the files."""
        self.summary.update(values)
        self.write()

    def write(self) -> None:
        """Write ``metrics.csv`` and ``metrics.json`` (no-op without an ``out_dir``)."""
        if self.out_dir is None:
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        atomic_write(self.out_dir / CSV_NAME, buffer.getvalue().encode())
        doc = {"epochs": [_json_row(r) for r in self.rows], "summary": self.summary}
        atomic_write(self.out_dir / JSON_NAME, (json.dumps(doc, indent=2) + "\n").encode())


def read_metrics(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metrics.json`` of a run: ``{"epochs": [...], "summary": {...}}``.

    Raises:
        FileNotFoundError: the run has no ``metrics.json``.
    """
    path = Path(run_dir) / JSON_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; is {run_dir} a training run directory?")
    return json.loads(path.read_text())


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if value is None:
        return ""
    return value


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    # JSON has no NaN; an epoch without validation data reports null.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
