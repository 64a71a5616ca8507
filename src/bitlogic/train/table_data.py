"""A run's dataset when it is a user's table (``dataset.path``), as the config records it.

Training fills in ``dataset.sha256``, ``class_names``, ``feature_names``,
``feature_min`` and ``feature_max`` (:func:`record_table`) before it writes
``config.yaml``, so every artifact of the run (the run directory, a checkpoint,
the netlist's metadata) can reload the same data, scaled the same way, in a
new process.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from bitlogic.data import Dataset, load_dataset
from bitlogic.data.table_source import TableSource, fit_table, table_split

from .config import RunConfig


def record_table(config: RunConfig) -> RunConfig:
    """``config`` with its table's source recorded (unchanged if already, or not a table).

    Raises:
        FileNotFoundError: the table does not exist.
        ValueError: the table is malformed (the message names line and column).
    """
    d = config.dataset
    if d.path is None or d.sha256 is not None:
        return config
    fit = fit_table(d.path, d.target)
    dataset = dataclasses.replace(
        # Absolute, so the run can find its table from any working directory.
        d, name=Path(d.path).stem, path=str(Path(d.path).resolve()), target=fit.target,
        sha256=fit.sha256, class_names=list(fit.class_names),
        feature_names=list(fit.feature_names),
        feature_min=list(fit.feature_min), feature_max=list(fit.feature_max))
    return dataclasses.replace(config, dataset=dataset)


def table_source(config: RunConfig) -> TableSource:
    """The recorded :class:`~bitlogic.data.table_source.TableSource` of a table run.

    Raises:
        ValueError: ``dataset.path`` is unset, or nothing was recorded for it.
    """
    d = config.dataset
    if d.path is None or d.sha256 is None:
        raise ValueError("the config records no table source (dataset.path and dataset.sha256)")
    return TableSource(path=d.path, sha256=d.sha256, target=d.target or "",
                       class_names=tuple(d.class_names), feature_names=tuple(d.feature_names),
                       feature_min=tuple(d.feature_min), feature_max=tuple(d.feature_max))


def load_run_dataset(config: RunConfig, split: str,
                     data_dir: str | os.PathLike[str] | None = None,
                     *, raw: bool = False) -> Dataset:
    """Split ``train`` or ``test`` of the run's dataset: registered, or its table.

    ``raw`` also reads a registered dataset's features before scaling (``raw_x``).
    """
    if config.dataset.path is None:
        return load_dataset(config.dataset.name, split, data_dir, raw=raw)
    return table_split(table_source(record_table(config)), split)
