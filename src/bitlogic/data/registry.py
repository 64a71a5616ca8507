"""The registry of named datasets that `load_dataset` and `download` look up.

Built-in entries:

| name | classes | feature_shape | source | train / test |
|---|---|---|---|---|
| "mnist" | 10 | (1, 28, 28) | IDX files in `mnist/` | 60000 / 10000 |
| "fashion-mnist" | 10 | (1, 28, 28) | IDX files in `fashion-mnist/` | 60000 / 10000 |
| "cifar10" | 10 | (3, 32, 32) | binary batches in `cifar-10-batches-bin/` | 50000 / 10000 |
| "digits" | 10 | (64,) | scikit-learn, offline | 1348 / 449 (fixed split) |
| "breast-cancer" | 2 | (30,) | scikit-learn, offline | 427 / 142 (fixed split) |

Images are scaled by 1/255 and flattened in (channel, row, column) order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bitlogic.data.builtin import (
    breast_cancer_scaling,
    digits_scaling,
    load_breast_cancer_raw,
    load_breast_cancer_split,
    load_digits_raw,
    load_digits_split,
)
from bitlogic.data.cifar import load_cifar10_split
from bitlogic.data.dataset import SPLITS
from bitlogic.data.idx import load_idx_split
from bitlogic.data.paths import resolve_data_dir
from bitlogic.data.sources import CIFAR10, FASHION_MNIST, MNIST, Source
from bitlogic.netlist.scaling import InputScaling
from bitlogic.registry import Registry

# loader(split, data_dir) -> (x float32 (n, num_features) in [0, 1], y int64 (n,)).
# data_dir is the caller's raw argument (None when defaulted) so that a loader's
# FileNotFoundError can say where the directory came from.
Loader = Callable[[str, str | os.PathLike[str] | None], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class DatasetInfo:
    """What the registry knows about one dataset.

    Attributes:
        name: registry key, e.g. "mnist".
        num_classes: number of classes.
        feature_shape: shape of one sample before flattening.
        loader: `loader(split, data_dir) -> (x, y)` with x float32 of shape
            (n, prod(feature_shape)) in [0, 1] and y int64 of shape (n,).
        description: one line for listings.
        class_names: names of the classes in label order, or () when unnamed.
        source: where `download` fetches the files from, or None when the dataset
            needs no files (it ships with a library).
        splits: the split names `load_dataset` accepts.
        raw_loader: like `loader`, but the features before scaling (float32), or None.
        scaling: `scaling()` is the `InputScaling` from `raw_loader`'s features to
            `loader`'s, or None when unknown (netlists then take scaled features).
    """

    name: str
    num_classes: int
    feature_shape: tuple[int, ...]
    loader: Loader
    description: str = ""
    class_names: tuple[str, ...] = ()
    source: Source | None = None
    splits: tuple[str, ...] = SPLITS
    raw_loader: Loader | None = None
    scaling: Callable[[], InputScaling] | None = None


# KeyError for unknown names: the documented contract of get_dataset_info/load_dataset.
DATASETS: Registry[DatasetInfo] = Registry("dataset", KeyError)


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry.

    Args:
        info: the entry; `info.name` becomes its key.

    Returns:
        `info`, so the call can be used as an expression.

    Raises:
        TypeError: if `info` is not a DatasetInfo.
        ValueError: if the name is empty or already registered.
    """
    if not isinstance(info, DatasetInfo):
        raise TypeError(f"info must be a DatasetInfo, got {type(info).__name__}")
    return DATASETS.register(info.name, info)


def list_datasets() -> list[str]:
    """Names of all registered datasets, sorted."""
    return DATASETS.names()


def get_dataset_info(name: str) -> DatasetInfo:
    """Look a dataset up by name.

    Raises:
        KeyError: if `name` is not registered; the message lists the valid names.
    """
    return DATASETS.get(name)


def _unit_pixels(images: np.ndarray) -> np.ndarray:
    # One float32 allocation, and exact division so x * 255 recovers the bytes.
    flat = images.reshape(images.shape[0], -1)
    return np.divide(flat, np.float32(255.0), dtype=np.float32)


def _raw_pixels(images: np.ndarray) -> np.ndarray:
    return images.reshape(images.shape[0], -1).astype(np.float32)


def _pixel_scaling(num_features: int) -> Callable[[], InputScaling]:
    return lambda: InputScaling.divide(num_features, 255.0)  # exact: equals _unit_pixels


def _idx_loader(source: Source, name: str, raw: bool = False) -> Loader:
    def load(split: str, data_dir: str | os.PathLike[str] | None) -> tuple[np.ndarray, np.ndarray]:
        folder = resolve_data_dir(data_dir) / source.subdir
        images, labels = load_idx_split(folder, split, name, data_dir)
        return (_raw_pixels if raw else _unit_pixels)(images), labels.astype(np.int64)

    return load


def _load_cifar10(
    split: str, data_dir: str | os.PathLike[str] | None, raw: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    folder = resolve_data_dir(data_dir) / CIFAR10.subdir
    images, labels = load_cifar10_split(folder, split, "cifar10", data_dir)
    return (_raw_pixels if raw else _unit_pixels)(images), labels.astype(np.int64)


register_dataset(
    DatasetInfo(
        name="mnist",
        num_classes=10,
        feature_shape=(1, 28, 28),
        loader=_idx_loader(MNIST, "mnist"),
        raw_loader=_idx_loader(MNIST, "mnist", raw=True),
        scaling=_pixel_scaling(784),
        description="MNIST handwritten digits, 28x28 grey, 60000 train / 10000 test",
        class_names=tuple(str(d) for d in range(10)),
        source=MNIST,
    )
)
register_dataset(
    DatasetInfo(
        name="fashion-mnist",
        num_classes=10,
        feature_shape=(1, 28, 28),
        loader=_idx_loader(FASHION_MNIST, "fashion-mnist"),
        raw_loader=_idx_loader(FASHION_MNIST, "fashion-mnist", raw=True),
        scaling=_pixel_scaling(784),
        description="Zalando Fashion-MNIST, 28x28 grey, 60000 train / 10000 test",
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),  # fmt: skip
        source=FASHION_MNIST,
    )
)
register_dataset(
    DatasetInfo(
        name="cifar10",
        num_classes=10,
        feature_shape=(3, 32, 32),
        loader=_load_cifar10,
        raw_loader=lambda split, data_dir: _load_cifar10(split, data_dir, raw=True),
        scaling=_pixel_scaling(3072),
        description="CIFAR-10, 32x32 RGB, 50000 train / 10000 test",
        class_names=(
            "airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck",
        ),  # fmt: skip
        source=CIFAR10,
    )
)
register_dataset(
    DatasetInfo(
        name="digits",
        num_classes=10,
        feature_shape=(64,),
        loader=lambda split, _data_dir: load_digits_split(split),
        raw_loader=lambda split, _data_dir: load_digits_raw(split),
        scaling=digits_scaling,
        description="scikit-learn 8x8 digits, 1797 images, fixed 75/25 stratified split",
        class_names=tuple(str(d) for d in range(10)),
    )
)
register_dataset(
    DatasetInfo(
        name="breast-cancer",
        num_classes=2,
        feature_shape=(30,),
        loader=lambda split, _data_dir: load_breast_cancer_split(split),
        raw_loader=lambda split, _data_dir: load_breast_cancer_raw(split),
        scaling=breast_cancer_scaling,
        description="scikit-learn Wisconsin breast cancer, 569 rows, fixed 75/25 split",
        class_names=("malignant", "benign"),
    )
)
