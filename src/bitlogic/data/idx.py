"""Reader for the IDX format of MNIST and Fashion-MNIST, gzipped or plain.

An IDX file is a 4-byte magic number `00 00 TT DD` (TT: element type code, DD:
number of dimensions), then DD big-endian uint32 sizes, then the elements in
row-major order, big-endian. See http://yann.lecun.com/exdb/mnist/.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from bitlogic.data.paths import missing_file_error

# Type codes of the IDX specification; multi-byte types are big-endian on disk.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"

# File names shared by MNIST and Fashion-MNIST, per split: (images, labels).
IDX_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    # Detect compression by content, not by name, so a renamed file still loads.
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt gzip stream ({exc})") from exc


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file.

    Args:
        path: an IDX file, gzip-compressed or not.

    Returns:
        Array with the file's dimensions, e.g. (60000, 28, 28) uint8 for MNIST
        training images or (60000,) uint8 for its labels, in native byte order.

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: naming the file, if the gzip stream, magic number, type code,
            dimensions or byte count are invalid.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: {len(data)} bytes is too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()}; the first two bytes must be 0"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        allowed = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{path}: IDX type code 0x{code:02X} is not one of {allowed}")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions; at least 1 is needed")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path}: {len(data)} bytes is too short for an IDX header with {ndim} dimensions"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: IDX header declares dims {dims} of {dtype.name} ({expected} bytes of "
            f"data) but the file holds {len(data) - header}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    # Native byte order, and a writable copy rather than a view of an immutable bytes.
    return array.astype(dtype.newbyteorder("="))


def find_idx_file(
    folder: Path, name: str, dataset: str, data_dir: str | os.PathLike[str] | None
) -> Path:
    """Locate `name` in `folder`, accepting the uncompressed twin of a `.gz` file.

    Args:
        folder: the dataset folder, e.g. `<data_dir>/mnist`.
        name: official file name, e.g. "train-images-idx3-ubyte.gz".
        dataset: registry name, for the error message.
        data_dir: the caller's `data_dir` argument, for the error message.

    Returns:
        Path of the file found.

    Raises:
        FileNotFoundError: if neither the file nor its uncompressed twin exists.
    """
    path = folder / name
    if path.is_file():
        return path
    plain = folder / name.removesuffix(".gz")
    if plain.is_file():
        return plain
    raise missing_file_error(dataset, path, data_dir)


def load_idx_split(
    folder: Path, split: str, dataset: str, data_dir: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of an MNIST-layout dataset (28x28 grey images, 10 classes).

    Args:
        folder: directory with the four official files.
        split: "train" or "test".
        dataset: registry name, for error messages.
        data_dir: the caller's `data_dir` argument, for error messages.

    Returns:
        (images, labels): uint8 arrays, shapes (n, 28, 28) and (n,).

    Raises:
        FileNotFoundError: if a file is missing.
        ValueError: if a file is malformed or the two files disagree.
    """
    image_name, label_name = IDX_FILES[split]
    image_path = find_idx_file(folder, image_name, dataset, data_dir)
    label_path = find_idx_file(folder, label_name, dataset, data_dir)
    images = read_idx(image_path)
    labels = read_idx(label_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{image_path}: expected uint8 images of shape (n, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{label_path}: expected uint8 labels of shape (n,), got {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"{label_path} holds {labels.shape[0]} labels but {image_path} holds "
            f"{images.shape[0]} images"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{label_path}: label {labels.max()} is outside 0..9")
    return images, labels
