"""IDX and CIFAR readers on small synthetic files, and CSV / npz tables."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from bitlogic.data import load_table, read_cifar_batch, read_csv_table, read_idx, read_npz_table
from bitlogic.data.tables import encode_labels


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_idx_round_trips_every_type(tmp_path: Path) -> None:
    for code, dtype in [(0x08, "u1"), (0x09, "i1"), (0x0B, ">i2"), (0x0C, ">i4"),
                        (0x0D, ">f4"), (0x0E, ">f8")]:  # fmt: skip
        expected = (np.arange(24) - 7).astype(dtype).reshape(2, 3, 4)
        path = tmp_path / f"t{code}.idx.gz"
        path.write_bytes(gzip.compress(idx_bytes(code, (2, 3, 4), expected.tobytes())))
        got = read_idx(path)
        assert got.shape == (2, 3, 4) and got.dtype.isnative
        assert np.array_equal(got, expected)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x00", "too short for an IDX header"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic number"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "type code 0x07 is not one of"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "too short for an IDX header with 3"),
        (idx_bytes(0x08, (2, 3), b"\x00" * 5), r"dims \(2, 3\) of uint8 \(6 bytes"),
        (idx_bytes(0x08, (2, 3), b"\x00" * 7), "the file holds 7"),
        (idx_bytes(0x0C, (2,), b"\x00" * 4), r"int32 \(8 bytes of data\) but the file holds 4"),
    ],
)
def test_idx_rejects_malformed_files(tmp_path: Path, content: bytes, message: str) -> None:
    plain, packed = tmp_path / "bad-idx", tmp_path / "bad-idx.gz"
    plain.write_bytes(content)
    packed.write_bytes(gzip.compress(content))
    for path in (plain, packed):
        with pytest.raises(ValueError, match=message) as info:
            read_idx(path)
        assert str(path) in str(info.value)


def test_idx_rejects_a_truncated_gzip_stream(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))[:-10])
    with pytest.raises(ValueError, match="corrupt gzip stream") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_idx_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.gz")


def cifar_record(label: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, 3072, dtype=np.uint8)
    return bytes([label]) + pixels.tobytes()


def test_cifar_batch_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "b.bin"
    path.write_bytes(cifar_record(3, 0) + cifar_record(9, 1))
    images, labels = read_cifar_batch(path)
    assert images.shape == (2, 3072) and images.dtype == np.uint8
    assert labels.tolist() == [3, 9]
    assert images[1].tobytes() == cifar_record(9, 1)[1:]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "0 bytes is not a positive multiple"),
        (cifar_record(1, 0)[:-1], "3072 bytes is not a positive multiple of the CIFAR-10 record"),
        (cifar_record(1, 0) + b"\x00", "3074 bytes"),
        (cifar_record(1, 0) + cifar_record(10, 1), "record 1 has label 10"),
    ],
)
def test_cifar_rejects_malformed_batches(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_cifar_batch(path)
    assert str(path) in str(info.value)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_round_trip_with_default_last_label_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", "a,b,kind\n1.5,2,cat\n-3,4e2,dog\n0,0,cat\n")
    x, y, features, classes = read_csv_table(path)
    assert np.array_equal(x, [[1.5, 2.0], [-3.0, 400.0], [0.0, 0.0]]) and x.dtype == np.float64
    assert y.tolist() == [0, 1, 0] and y.dtype == np.int64
    assert features == ("a", "b") and classes == ("cat", "dog")


def test_csv_label_column_by_name_and_numeric_label_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", 'label,"f 1",f2\n10,1,2\n\n9,3,4\n10,5,6\n')
    x, y, features, classes = read_csv_table(path, label_column="label")
    assert np.array_equal(x, [[1, 2], [3, 4], [5, 6]])
    assert features == ("f 1", "f2")
    assert classes == ("9", "10") and y.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("", {}, "empty CSV file"),
        ("a\n1\n", {}, "at least one feature and a label"),
        ("a,b\n", {}, "no data rows"),
        ("a,b\n1,2\n", {"label_column": "y"}, r"label_column='y' is not a column; columns: \['a'"),
        ("a,b\n1,2\n3\n", {}, "line 3 has 1 fields; the header has 2"),
        ("a,b\n1,2\n\n3,4,5\n", {}, "line 4 has 3 fields"),
        ("a,b\n1,2\nx,1\n", {}, "line 3, column 'a': 'x' is not a number; feature columns must"),
        ("a,b\n1,2\n,1\n", {}, "line 3, column 'a': missing value ''"),
        ("a,b\nnan,2\n", {}, "line 2, column 'a': missing value 'nan'"),
        ("a,b\n1,2\nNA,2\n", {}, "line 3, column 'a': missing value 'NA'"),
        ("a,b\n1,2\ninf,2\n", {}, "line 3, column 'a': 'inf' is not a finite number"),
        ("a,b\n1,2\n3,\n", {}, "line 3, label column 'b': missing label ''"),
    ],
)
def test_csv_rejects_malformed_tables(
    tmp_path: Path, text: str, kwargs: dict[str, str], message: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=message) as info:
        read_csv_table(path, **kwargs)
    assert str(path) in str(info.value)


def test_npz_round_trip_with_default_and_custom_keys(tmp_path: Path) -> None:
    x = np.arange(24, dtype=np.uint8).reshape(4, 2, 3)
    np.savez(tmp_path / "a.npz", X=x, y=np.array([2, 0, 2, 7]))
    got_x, got_y, classes = read_npz_table(tmp_path / "a.npz")
    assert np.array_equal(got_x, x) and got_x.dtype == np.uint8
    assert got_y.tolist() == [1, 0, 1, 2] and classes == ("0", "2", "7")
    np.savez(tmp_path / "b.npz", feats=x[:, 0], target=np.array(["b", "a", "b", "c"]))
    got_x, got_y, classes = read_npz_table(tmp_path / "b.npz", x_key="feats", y_key="target")
    assert got_x.shape == (4, 3) and got_y.tolist() == [1, 0, 1, 2] and classes == ("a", "b", "c")


def test_npz_never_unpickles(tmp_path: Path) -> None:
    np.savez(tmp_path / "o.npz", X=np.zeros((2, 2)), y=np.array([{"evil": 1}, 2], dtype=object))
    with pytest.raises(ValueError, match="cannot load without pickle"):
        read_npz_table(tmp_path / "o.npz")


@pytest.mark.parametrize(
    ("arrays", "kwargs", "message"),
    [
        ({"X": np.zeros((2, 2))}, {}, r"y_key='y' is not an array in it; it has \['X'\]"),
        ({"X": np.zeros((2, 2)), "y": [0]}, {}, r"'y' must have shape \(2,\)"),
        ({"X": np.zeros(3), "y": [0, 1, 0]}, {}, r"'X' must be numeric of shape \(n, ...\)"),
        ({"A": np.zeros((2, 2)), "y": [0, 1]}, {"x_key": "B"}, "x_key='B' is not an array"),
    ],
)
def test_npz_rejects_malformed_archives(
    tmp_path: Path, arrays: dict[str, object], kwargs: dict[str, str], message: str
) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        read_npz_table(tmp_path / "bad.npz", **kwargs)


def test_npz_rejects_a_bare_npy(tmp_path: Path) -> None:
    np.save(tmp_path / "one.npy", np.zeros(3))
    path = tmp_path / "one.npz"
    (tmp_path / "one.npy").rename(path)
    with pytest.raises(ValueError, match="single array"):
        read_npz_table(path)


def labelled_table(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.normal(size=(n, 3)) * [1, 10, 100], np.arange(n) % 3


def test_load_table_csv_and_npz_agree_and_scale_with_train_stats(tmp_path: Path) -> None:
    x, y = labelled_table()
    rows = [",".join(map(repr, row.tolist())) + f",{c}" for row, c in zip(x, y, strict=True)]
    lines = ["f0,f1,f2,label", *rows]
    write_csv(tmp_path / "t.csv", "\n".join(lines) + "\n")
    np.savez(tmp_path / "t.npz", X=x, y=y)
    train = load_table(tmp_path / "t.csv", "train")
    test = load_table(tmp_path / "t.csv", "test")
    assert (len(train), len(test)) == (30, 10) and train.name == "t"
    assert train.feature_shape == (3,) and train.num_classes == 3
    assert np.allclose(train.x.min(axis=0), 0) and np.allclose(train.x.max(axis=0), 1)
    assert test.x.min() >= 0 and test.x.max() <= 1
    # 10 test rows from classes of 14, 13, 13: largest remainder gives class 0 the extra.
    assert np.bincount(test.y).tolist() == [4, 3, 3]
    npz_train = load_table(tmp_path / "t.npz", "train", name="other")
    assert npz_train.name == "other"
    assert np.array_equal(npz_train.x, train.x) and np.array_equal(npz_train.y, train.y)


def test_load_table_none_scaling_keeps_values(tmp_path: Path) -> None:
    x = np.linspace(0, 1, 24).reshape(8, 3)
    np.savez(tmp_path / "u.npz", X=x, y=np.arange(8) % 2)
    d = load_table(tmp_path / "u.npz", "test", scaling="none")
    assert len(d) == 2 and all(np.any(np.all(np.isclose(x, row), axis=1)) for row in d.x)
    np.savez(tmp_path / "w.npz", X=x * 2, y=np.arange(8) % 2)
    with pytest.raises(ValueError, match="scaling='none' needs features in"):
        load_table(tmp_path / "w.npz", scaling="none")


def test_load_table_keeps_npz_sample_shape(tmp_path: Path) -> None:
    np.savez(tmp_path / "img.npz", X=np.zeros((8, 2, 3, 3), np.uint8), y=np.arange(8) % 2)
    d = load_table(tmp_path / "img.npz")
    assert d.feature_shape == (2, 3, 3) and d.x.shape == (6, 18)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("t.txt", {}, "must end in .csv or .npz"),
        ("t.csv", {"split": "val"}, "allowed: train, test"),
        ("t.csv", {"scaling": "zscore"}, "scaling='zscore' is not valid; allowed: minmax, none"),
    ],
)
def test_load_table_rejects_bad_arguments(
    tmp_path: Path, name: str, kwargs: dict[str, str], message: str
) -> None:
    write_csv(tmp_path / name, "a,b\n1,0\n2,1\n")
    with pytest.raises(ValueError, match=message):
        load_table(tmp_path / name, **kwargs)


def test_encode_labels_orders_numbers_numerically() -> None:
    codes, classes = encode_labels(["2", "10", "-1", "2"])
    assert classes == ("-1", "2", "10") and codes.tolist() == [1, 2, 0, 1]
    codes, classes = encode_labels(np.array([True, False]))
    assert classes == ("False", "True") and codes.tolist() == [1, 0]
