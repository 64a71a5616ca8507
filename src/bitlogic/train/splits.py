"""Training data for a run: the dataset, its validation carve-out, as tensors.

The validation part is carved (stratified, seeded) out of the training split
with :func:`bitlogic.data.train_val_split`; the test split is only ever read
for the final report, never for model selection.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .config import RunConfig

SPLITS = ("train", "val", "test")


@dataclass
class RunData:
    """Tensors of one run on the CPU.

    Attributes:
        train_x: float32 ``(n_train, features)``.
        train_y: int64 ``(n_train,)``.
        val_x: float32 ``(n_val, features)``; empty when ``val_fraction`` is 0.
        val_y: int64 ``(n_val,)``.
        num_features: raw features per sample.
        num_classes: classes of the dataset.
        feature_shape: shape of one sample before flattening, e.g. ``(1, 28, 28)``.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    num_features: int
    num_classes: int
    feature_shape: tuple[int, ...] = ()


def input_scaling(config: RunConfig | None, model: nn.Module) -> object:
    """The dataset's :class:`~bitlogic.netlist.InputScaling` for ``model``'s netlist.

    ``None`` without a config, for a dataset whose scaling is unknown, or for a
    model without an input encoder (its inputs are bits, not scaled features).
    """
    from bitlogic.data import get_dataset_info
    from bitlogic.layers.encoders import DistributiveThermometer, Thermometer

    from .table_data import load_run_dataset

    if config is None or not any(isinstance(m, (Thermometer, DistributiveThermometer))
                                 for m in model.modules()):
        return None
    if config.dataset.path is not None:  # a user's table: its loader knows the scaling
        return load_run_dataset(config, "train").scaling
    info = get_dataset_info(config.dataset.name)
    return info.scaling() if info.scaling is not None else None


def _features(ds: object, raw: bool) -> np.ndarray:
    """``ds.x``, or with ``raw`` the features before scaling."""
    if not raw:
        return ds.x
    if ds.raw_x is None:
        raise ValueError(f"dataset {ds.name!r} does not provide its raw features, which a "
                         f"netlist with an input scaling takes")
    return ds.raw_x


def prepare_data(config: RunConfig, data_dir: str | os.PathLike[str] | None = None,
                 *, raw: bool = False) -> RunData:
    """Load the training split and carve the validation part out of it.

    Args:
        config: the run config (``dataset`` section and ``train.seed``).
        data_dir: dataset directory; ``None`` uses ``$BITLOGIC_DATA`` or the default.
        raw: features before the dataset's scaling (what a netlist with an input
            scaling takes) instead of the scaled ones the model trains on.

    Raises:
        KeyError: unknown dataset name (lists the valid ones).
        FileNotFoundError: dataset files missing (says where they were looked for).
    """
    from bitlogic.data import train_val_split

    from .table_data import load_run_dataset

    ds = load_run_dataset(config, "train", data_dir, raw=raw)
    x = _features(ds, raw)
    fit_idx, val_idx = train_val_split(len(ds), config.dataset.val_fraction,
                                       config.train.seed, labels=ds.y)
    limit = config.dataset.train_limit
    if limit is not None and limit < fit_idx.size:
        rng = np.random.default_rng(config.train.seed)
        fit_idx = np.sort(rng.permutation(fit_idx)[:limit])
    return RunData(
        train_x=torch.from_numpy(x[fit_idx]),
        train_y=torch.from_numpy(ds.y[fit_idx]),
        val_x=torch.from_numpy(x[val_idx]),
        val_y=torch.from_numpy(ds.y[val_idx]),
        num_features=ds.num_features,
        num_classes=ds.num_classes,
        feature_shape=tuple(ds.feature_shape),
    )


def load_split(
    config: RunConfig, split: str, data_dir: str | os.PathLike[str] | None = None,
    *, raw: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` tensors of ``train`` (without validation), ``val`` or ``test``.

    ``raw``: features before the dataset's scaling (see :func:`prepare_data`).

    Raises:
        ValueError: ``split`` is not one of ``train``, ``val``, ``test``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    if split == "test":
        from .table_data import load_run_dataset

        ds = load_run_dataset(config, "test", data_dir, raw=raw)
        return torch.from_numpy(_features(ds, raw)), torch.from_numpy(ds.y)
    data = prepare_data(config, data_dir, raw=raw)
    return (data.train_x, data.train_y) if split == "train" else (data.val_x, data.val_y)
