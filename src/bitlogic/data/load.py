"""`load_dataset`: the one entry point from a dataset name to a `Dataset`."""

from __future__ import annotations

import os

from bitlogic.data import fetch
from bitlogic.data.dataset import Dataset, check_split
from bitlogic.data.registry import get_dataset_info


def load_dataset(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    raw: bool = False,
) -> Dataset:
    """Load one split of a registered dataset.

    Args:
        name: a name from `list_datasets()`: "mnist", "fashion-mnist", "cifar10",
            "digits", "breast-cancer", or one added with `register_dataset`.
        split: "train" or "test". For "digits" and "breast-cancer", which have no
            official split, these are the frozen stratified 75/25 split of
            `bitlogic.data.splits.fixed_test_split`. Carve validation data from
            "train" with `train_val_split`; never select models on "test".
        data_dir: directory holding the dataset folders; None uses the
            `BITLOGIC_DATA` environment variable, else `~/.cache/bitlogic/data`.
            Ignored by the scikit-learn datasets.
        download: when True and the dataset's files are missing, fetch them first
            with `bitlogic.data.download`.
        raw: also read the features before scaling into `Dataset.raw_x` (what a
            netlist with an input scaling takes).

    Returns:
        Dataset with x float32 of shape (n, prod(feature_shape)) in [0, 1] and
        y int64 of shape (n,).

    Raises:
        KeyError: if `name` is not registered; the message lists valid names.
        ValueError: if `split` is not allowed, a data file is malformed, or `raw` is
            asked of a dataset without a `raw_loader`.
        FileNotFoundError: if a data file is missing; the message names the file, the
            directory searched and how to download it.
    """
    info = get_dataset_info(name)
    check_split(split, info.splits)
    try:
        x, y = info.loader(split, data_dir)
    except FileNotFoundError:
        if not (download and info.source is not None):
            raise
        fetch.download(name, data_dir=data_dir)
        x, y = info.loader(split, data_dir)
    raw_x = None
    if raw:
        if info.raw_loader is None:
            raise ValueError(f"dataset {name!r} has no raw_loader, so raw=True is not available")
        raw_x = info.raw_loader(split, data_dir)[0]
    return Dataset(
        x=x,
        y=y,
        num_classes=info.num_classes,
        name=info.name,
        split=split,
        feature_shape=info.feature_shape,
        scaling=info.scaling() if info.scaling is not None else None,
        raw_x=raw_x,
    )
