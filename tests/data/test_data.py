"""bitlogic.data against the real datasets in ../shared/data, plus the registry API."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from bitlogic.data import (
    SPLITS,
    Dataset,
    DatasetInfo,
    get_dataset_info,
    list_datasets,
    load_dataset,
    read_cifar_batch,
    read_idx,
    register_dataset,
    resolve_data_dir,
)
from bitlogic.data import registry as registry_module


@pytest.fixture(scope="module")
def mnist_train(shared: Path) -> Dataset:
    return load_dataset("mnist", "train", data_dir=shared)


@pytest.fixture(scope="module")
def cifar_train(shared: Path) -> Dataset:
    return load_dataset("cifar10", "train", data_dir=shared)


def test_list_datasets_has_the_builtins() -> None:
    assert {"mnist", "fashion-mnist", "cifar10", "digits", "breast-cancer"} <= set(
        list_datasets()
    )
    assert list_datasets() == sorted(list_datasets())


def test_mnist_train_matches_known_facts(mnist_train: Dataset) -> None:
    d = mnist_train
    assert (d.name, d.split, d.num_classes, d.feature_shape) == ("mnist", "train", 10, (1, 28, 28))
    assert d.x.shape == (60000, 784) and d.x.dtype == np.float32
    assert d.y.shape == (60000,) and d.y.dtype == np.int64
    counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(d.y, minlength=10).tolist() == counts
    assert abs(float(d.x.mean(dtype=np.float64)) - 0.1307) < 1e-3
    assert d.x.min() >= 0.0 and d.x.max() == 1.0


def test_pixels_are_exact_multiples_of_one_255th(mnist_train: Dataset) -> None:
    pixels = mnist_train.x[:500] * 255.0
    assert np.array_equal(pixels, np.round(pixels))


def test_mnist_test_split(shared: Path) -> None:
    d = load_dataset("mnist", "test", data_dir=shared)
    assert d.x.shape == (10000, 784) and d.y.shape == (10000,)
    assert np.bincount(d.y).sum() == 10000 and set(np.unique(d.y)) == set(range(10))


@pytest.mark.parametrize(("split", "per_class"), [("train", 6000), ("test", 1000)])
def test_fashion_mnist_is_balanced(shared: Path, split: str, per_class: int) -> None:
    d = load_dataset("fashion-mnist", split, data_dir=shared)
    assert d.x.shape == (10 * per_class, 784) and d.feature_shape == (1, 28, 28)
    assert np.bincount(d.y, minlength=10).tolist() == [per_class] * 10
    assert get_dataset_info("fashion-mnist").class_names[9] == "Ankle boot"


def test_cifar10_train_matches_known_facts(cifar_train: Dataset) -> None:
    d = cifar_train
    assert d.x.shape == (50000, 3072) and d.feature_shape == (3, 32, 32)
    assert np.bincount(d.y, minlength=10).tolist() == [5000] * 10
    assert d.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    means = d.x.reshape(-1, 3, 1024).mean(axis=(0, 2), dtype=np.float64)
    assert np.allclose(means, [0.4914, 0.4822, 0.4465], atol=1e-3)


def test_cifar10_keeps_the_planar_rgb_order(shared: Path, cifar_train: Dataset) -> None:
    raw = np.fromfile(shared / "cifar-10-batches-bin" / "data_batch_1.bin", np.uint8, 3 * 3073)
    records = raw.reshape(3, 3073)
    assert np.array_equal(cifar_train.y[:3], records[:, 0])
    assert np.array_equal(np.round(cifar_train.x[:3] * 255).astype(np.uint8), records[:, 1:])
    images, labels = read_cifar_batch(shared / "cifar-10-batches-bin" / "data_batch_1.bin")
    assert images.shape == (10000, 3072) and labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]


def test_cifar10_test_split(shared: Path) -> None:
    d = load_dataset("cifar10", "test", data_dir=shared)
    assert d.x.shape == (10000, 3072)
    assert np.bincount(d.y, minlength=10).tolist() == [1000] * 10


def test_read_idx_plain_equals_gzipped(shared: Path, tmp_path: Path) -> None:
    gz = shared / "mnist" / "t10k-labels-idx1-ubyte.gz"
    plain = tmp_path / "t10k-labels-idx1-ubyte"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    a, b = read_idx(gz), read_idx(plain)
    assert a.shape == (10000,) and a.dtype == np.uint8
    assert np.array_equal(a, b)


def test_load_dataset_accepts_uncompressed_idx_files(shared: Path, tmp_path: Path) -> None:
    (tmp_path / "mnist").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        data = gzip.decompress((shared / "mnist" / name).read_bytes())
        (tmp_path / "mnist" / name.removesuffix(".gz")).write_bytes(data)
    plain = load_dataset("mnist", "test", data_dir=tmp_path)
    packed = load_dataset("mnist", "test", data_dir=shared)
    assert np.array_equal(plain.x, packed.x) and np.array_equal(plain.y, packed.y)


def test_data_dir_falls_back_to_env_var(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITLOGIC_DATA", str(shared))
    assert resolve_data_dir() == shared
    assert load_dataset("mnist", "test").x.shape == (10000, 784)


def test_data_dir_default_is_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BITLOGIC_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir() == tmp_path / ".cache" / "bitlogic" / "data"
    assert resolve_data_dir("~/x") == tmp_path / "x"
    with pytest.raises(TypeError, match="data_dir"):
        resolve_data_dir(3)  # type: ignore[arg-type]


def test_missing_file_error_says_what_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("mnist", "train", data_dir=tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "mnist") in message
    assert "bitlogic.data.download('mnist'" in message and "BITLOGIC_DATA" in message


def test_missing_file_error_names_the_env_var_as_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BITLOGIC_DATA", str(tmp_path))
    (tmp_path / "cifar-10-batches-bin").mkdir()
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin") as info:
        load_dataset("cifar10", "train")
    assert "from the BITLOGIC_DATA environment variable" in str(info.value)


def test_missing_file_with_one_present_names_the_other(shared: Path, tmp_path: Path) -> None:
    (tmp_path / "mnist").mkdir()
    shutil.copy(shared / "mnist" / "t10k-images-idx3-ubyte.gz", tmp_path / "mnist")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(KeyError, match="valid names: breast-cancer, cifar10, digits"):
        load_dataset("mnsit")


@pytest.mark.parametrize("split", ["val", "TRAIN", "", None])
def test_bad_split_lists_allowed(split: object) -> None:
    with pytest.raises(ValueError, match="allowed: train, test"):
        load_dataset("digits", split)  # type: ignore[arg-type]


def test_register_dataset_rejects_duplicates_and_serves_new_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry_module, "DATASETS", registry_module.DATASETS.copy())
    with pytest.raises(ValueError, match="'mnist' is already registered"):
        register_dataset(get_dataset_info("mnist"))
    with pytest.raises(TypeError, match="DatasetInfo"):
        register_dataset("toy")  # type: ignore[arg-type]

    def loader(split: str, data_dir: object) -> tuple[np.ndarray, np.ndarray]:
        n = 4 if split == "train" else 2
        return np.full((n, 6), 0.5, np.float32), np.arange(n, dtype=np.int64) % 3

    register_dataset(DatasetInfo("toy", num_classes=3, feature_shape=(2, 3), loader=loader))
    assert "toy" in list_datasets()
    d = load_dataset("toy", "test")
    assert (d.name, d.split, len(d), d.num_features) == ("toy", "test", 2, 6)
    assert d.feature_shape == (2, 3)


def test_dataset_checks_its_contract() -> None:
    x, y = np.zeros((3, 4), np.float32), np.zeros(3, np.int64)
    Dataset(x, y, 2, "t", "train", (4,))
    with pytest.raises(TypeError, match="float32"):
        Dataset(x.astype(np.float64), y, 2, "t", "train", (4,))
    with pytest.raises(TypeError, match="int64"):
        Dataset(x, y.astype(np.int32), 2, "t", "train", (4,))
    with pytest.raises(ValueError, match="rows"):
        Dataset(x, y[:2], 2, "t", "train", (4,))
    with pytest.raises(ValueError, match="feature_shape"):
        Dataset(x, y, 2, "t", "train", (5,))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        Dataset(x, y + 2, 2, "t", "train", (4,))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dataset(x + 2, y, 2, "t", "train", (4,))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dataset(np.full((3, 4), np.nan, np.float32), y, 2, "t", "train", (4,))


@pytest.mark.parametrize("name", ["digits", "breast-cancer"])
def test_builtin_datasets_need_no_files(name: str, tmp_path: Path) -> None:
    info = get_dataset_info(name)
    for split in SPLITS:
        d = load_dataset(name, split, data_dir=tmp_path / "nothing-here")
        assert d.x.dtype == np.float32 and d.x.shape[1:] == info.feature_shape
        assert d.x.min() >= 0.0 and d.x.max() <= 1.0
        assert d.num_classes == info.num_classes
