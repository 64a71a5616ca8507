"""Datasets for bitlogic: official-format readers, a registry and a downloader.

Typical use::

    from bitlogic.data import load_dataset, train_val_split

    train = load_dataset("mnist", "train")          # x: (60000, 784) float32 in [0, 1]
    fit_idx, val_idx = train_val_split(len(train), 0.1, seed=0, labels=train.y)

Files are looked up in `data_dir`, else `$BITLOGIC_DATA`, else
`~/.cache/bitlogic/data`; `download("mnist")` fetches and verifies them.
"""

from bitlogic.data.cifar import read_cifar_batch
from bitlogic.data.dataset import SPLITS, Dataset
from bitlogic.data.fetch import ChecksumError, download
from bitlogic.data.idx import read_idx
from bitlogic.data.load import load_dataset
from bitlogic.data.paths import resolve_data_dir
from bitlogic.data.registry import (
    DATASETS,
    DatasetInfo,
    get_dataset_info,
    list_datasets,
    register_dataset,
)
from bitlogic.data.splits import train_val_split
from bitlogic.data.tables import load_table, read_csv_table, read_npz_table

__all__ = [
    "DATASETS",
    "SPLITS",
    "ChecksumError",
    "Dataset",
    "DatasetInfo",
    "download",
    "get_dataset_info",
    "list_datasets",
    "load_dataset",
    "load_table",
    "read_cifar_batch",
    "read_csv_table",
    "read_idx",
    "read_npz_table",
    "register_dataset",
    "resolve_data_dir",
    "train_val_split",
]
