"""Hostile dataset files: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary batches.

Each corrupt file is a ``ValueError`` naming it -- through the readers and
through ``load_dataset`` -- and a header that claims more data than the file
holds is refused without allocating it.
"""

from __future__ import annotations

import gzip
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from hostile import CORRUPTIONS, clear_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitlogic.data import load_dataset, read_cifar_batch, read_idx


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">BBBB", 0, 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims) \
        + payload


def write_mnist(folder: Path, n: int = 20) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (n, 28, 28), np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
            idx_bytes(0x08, images.shape, images.tobytes()))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
            idx_bytes(0x08, (n,), (np.arange(n) % 10).astype(np.uint8).tobytes()))


@pytest.fixture
def mnist_dir(tmp_path) -> Path:
    write_mnist(tmp_path / "mnist")
    return tmp_path


def test_ok_a_valid_mnist_folder_loads(mnist_dir):
    ds = load_dataset("mnist", "test", mnist_dir)
    assert len(ds) == 20


@pytest.mark.parametrize("corruption", list(CORRUPTIONS), ids=lambda c: f"error-idx-{c}")
@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_a_corrupt_idx_file_is_named_by_load_dataset(mnist_dir, corruption, name):
    CORRUPTIONS[corruption](mnist_dir / "mnist" / name)
    clear_error(lambda: load_dataset("mnist", "test", mnist_dir), ValueError, name)


IDX_HEADERS = {
    "claims-4G-items": (idx_bytes(0x08, (2**32 - 1, 28, 28), b"\0" * 100), r"declares dims"),
    "claims-255-dims": (bytes([0, 0, 0x08, 255]) + b"\0" * 16, r"too short"),
    "unknown-type": (idx_bytes(0x07, (4,), b"\0" * 4), r"type code 0x07"),
    "zero-dims": (bytes([0, 0, 0x08, 0]), r"0 dimensions"),
    "bad-magic": (b"\x01\x02\x08\x01" + b"\0" * 8, r"magic number"),
    "gzip-torn": (gzip.compress(idx_bytes(0x08, (4,), b"\0" * 4))[:-6], r"corrupt gzip"),
}


@pytest.mark.parametrize("case", list(IDX_HEADERS), ids=lambda c: f"error-idx-header-{c}")
def test_a_hostile_idx_header_is_refused_without_allocating(tmp_path, case):
    content, message = IDX_HEADERS[case]
    path = tmp_path / "x.idx"
    path.write_bytes(content)
    started = time.perf_counter()
    clear_error(lambda: read_idx(path), ValueError, "x.idx", message)
    assert time.perf_counter() - started < 2.0


@pytest.mark.outcome("error")
def test_idx_images_and_labels_that_disagree(mnist_dir):
    labels = mnist_dir / "mnist" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(0x08, (3,), bytes([1, 2, 3])))
    clear_error(lambda: load_dataset("mnist", "test", mnist_dir), ValueError, "3 labels")


@pytest.mark.outcome("error")
def test_idx_labels_out_of_range(mnist_dir):
    labels = mnist_dir / "mnist" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(0x08, (20,), bytes([200] * 20)))
    clear_error(lambda: load_dataset("mnist", "test", mnist_dir), ValueError, "outside 0..9")


@pytest.mark.outcome("error")
def test_idx_images_of_the_wrong_shape(mnist_dir):
    images = mnist_dir / "mnist" / "t10k-images-idx3-ubyte"
    images.write_bytes(idx_bytes(0x08, (20, 28 * 28), bytes(20 * 784)))
    clear_error(lambda: load_dataset("mnist", "test", mnist_dir), ValueError, r"\(n, 28, 28\)")


CIFAR = {
    "empty": (b"", "not a positive multiple"),
    "torn-record": (bytes(3073 + 100), "not a positive multiple"),
    "label-out-of-range": (bytes([11]) + bytes(3072), "labels are 0..9"),
    "random": (np.random.default_rng(1).integers(0, 256, 3073 * 2, np.uint8).tobytes(),
               "labels are 0..9"),
}


@pytest.mark.parametrize("case", list(CIFAR), ids=lambda c: f"error-cifar-{c}")
def test_a_corrupt_cifar_batch_is_named(tmp_path, case):
    content, message = CIFAR[case]
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(content)
    clear_error(lambda: read_cifar_batch(path), ValueError, "data_batch_1.bin", message)


@pytest.mark.outcome("ok")
def test_a_valid_cifar_batch_reads(tmp_path):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(bytes([3]) + bytes(range(256)) * 12)
    images, labels = read_cifar_batch(path)
    assert images.shape == (1, 3072) and labels.tolist() == [3]


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=64))
def test_any_short_byte_string_is_an_idx_error_or_an_array(tmp_path, content):
    path = tmp_path / "fuzz.idx"
    path.write_bytes(content)
    try:
        array = read_idx(path)
    except ValueError as err:
        assert "fuzz.idx" in str(err)
    else:
        assert isinstance(array, np.ndarray)
