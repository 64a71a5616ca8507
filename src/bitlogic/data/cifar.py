"""Reader for the CIFAR-10 "binary version" batches.

Each record is 1 label byte followed by 3072 pixel bytes: the 1024 red values of
the 32x32 image in row-major order, then the 1024 green, then the 1024 blue. See
https://www.cs.toronto.edu/~kriz/cifar.html. The pickled "python version" is not
supported, because unpickling a downloaded file can execute code.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bitlogic.data.paths import missing_file_error

RECORD_BYTES = 1 + 3 * 32 * 32
NUM_CLASSES = 10

CIFAR10_FILES: dict[str, tuple[str, ...]] = {
    "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("test_batch.bin",),
}


def read_cifar_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch file.

    Args:
        path: a `data_batch_*.bin` or `test_batch.bin` file.

    Returns:
        (images, labels): uint8 arrays of shapes (n, 3072) and (n,). Each image row
        keeps the file's planar order (1024 R, 1024 G, 1024 B, each row-major), so
        `images.reshape(n, 3, 32, 32)` gives channel, row, column.

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: naming the file, if it is empty, its size is not a multiple of
            the 3073-byte record, or a label is not in 0..9.
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise ValueError(
            f"{path}: {raw.size} bytes is not a positive multiple of the CIFAR-10 record "
            f"length {RECORD_BYTES} (1 label byte + 3072 pixel bytes)"
        )
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    if labels.max() >= NUM_CLASSES:
        bad = int(np.flatnonzero(labels >= NUM_CLASSES)[0])
        raise ValueError(
            f"{path}: record {bad} has label {labels[bad]}; CIFAR-10 labels are 0..9"
        )
    return records[:, 1:].copy(), labels


def load_cifar10_split(
    folder: Path,
    split: str,
    dataset: str = "cifar10",
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the training (5 batches) or test (1 batch) split of CIFAR-10.

    Args:
        folder: the `cifar-10-batches-bin` directory.
        split: "train" or "test".
        dataset: registry name, for error messages.
        data_dir: the caller's `data_dir` argument, for error messages.

    Returns:
        (images, labels): uint8 arrays, shapes (n, 3072) and (n,), batches concatenated
        in file order.

    Raises:
        FileNotFoundError: if a batch file is missing (checked before reading any).
        ValueError: if a batch is malformed.
    """
    paths = [folder / name for name in CIFAR10_FILES[split]]
    for path in paths:
        if not path.is_file():
            raise missing_file_error(dataset, path, data_dir)
    batches = [read_cifar_batch(path) for path in paths]
    if len(batches) == 1:
        return batches[0]
    return (
        np.concatenate([images for images, _ in batches]),
        np.concatenate([labels for _, labels in batches]),
    )
