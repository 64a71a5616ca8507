"""A user's table as a run's dataset: header detection, fitting, splits, new rows, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bitlogic.data import read_csv_table
from bitlogic.data.table_source import file_sha256, fit_table, table_rows, table_split

SEED = 7


def make_table(n: int = 40, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, 3) with a wide range and text labels of three classes."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, 3)) * [1.0, 10.0, 100.0], 3)
    labels = np.array(["setosa", "versicolor", "virginica"])[np.arange(n) % 3]
    return x, labels


def write_csv(path: Path, x: np.ndarray, labels: np.ndarray, header: str | None) -> Path:
    lines = [header] if header is not None else []
    for row, lab in zip(x.tolist(), labels, strict=True):
        lines.append(",".join([*(repr(v) for v in row), lab]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_with_header_fits_classes_names_and_train_scaling(tmp_path: Path) -> None:
    x, labels = make_table()
    path = write_csv(tmp_path / "iris.csv", x, labels, "a,b,c,species")
    fit = fit_table(path)
    assert fit.target == "species" and fit.feature_names == ("a", "b", "c")
    assert fit.class_names == ("setosa", "versicolor", "virginica")
    assert fit.sha256 == file_sha256(path) and len(fit.sha256) == 64
    train, test = table_split(fit, "train"), table_split(fit, "test")
    assert len(train) + len(test) == 40 and len(test) == 10, f"seed {SEED}"
    assert train.x.min() == 0.0 and train.x.max() == 1.0  # min-max of the train rows
    assert test.x.min() >= 0.0 and test.x.max() <= 1.0  # test rows clip
    assert train.num_classes == 3 and train.name == "iris"
    assert train.scaling is not None and train.raw_x is not None
    assert np.array_equal(train.scaling.apply(train.raw_x), train.x)


def test_csv_without_header_names_columns_by_position(tmp_path: Path) -> None:
    x, labels = make_table()
    path = write_csv(tmp_path / "plain.csv", x, labels, None)
    _, y, features, classes = read_csv_table(path)
    assert features == ("0", "1", "2") and len(y) == 40 and len(classes) == 3
    fit = fit_table(path)
    assert fit.target == "3" and fit.class_names == ("setosa", "versicolor", "virginica")
    with_header = fit_table(write_csv(tmp_path / "h.csv", x, labels, "a,b,c,species"))
    assert fit.feature_min == with_header.feature_min  # the same numbers, header or not


def test_csv_header_detection_with_numeric_labels(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("1.5,2,0\n3,4,1\n5,6,0\n7,8,1\n", encoding="utf-8")
    assert read_csv_table(path)[2] == ("0", "1")  # every cell a number: no header
    path.write_text("x,y,label\n1.5,2,0\n3,4,1\n", encoding="utf-8")
    assert read_csv_table(path)[2] == ("x", "y")


def test_npz_table_with_string_labels_and_another_target(tmp_path: Path) -> None:
    x, labels = make_table()
    path = tmp_path / "t.npz"
    np.savez(path, X=x.astype(np.float32), kind=labels)
    fit = fit_table(path, target="kind")
    assert fit.target == "kind" and fit.feature_names == ()
    assert fit.class_names == ("setosa", "versicolor", "virginica")
    train = table_split(fit, "train")
    assert train.x.shape == (30, 3) and train.feature_shape == (3,)
    with pytest.raises(ValueError, match="y_key='y' is not an array in it"):
        fit_table(path)  # the default target is "y"


def test_npz_keeps_the_sample_shape(tmp_path: Path) -> None:
    path = tmp_path / "img.npz"
    rng = np.random.default_rng(SEED)
    np.savez(path, x=rng.integers(0, 255, size=(12, 1, 2, 2)).astype(np.uint8),
             y=np.arange(12) % 2)
    assert table_split(fit_table(path), "train").feature_shape == (1, 2, 2)


def test_a_bad_target_names_the_columns(tmp_path: Path) -> None:
    x, labels = make_table()
    path = write_csv(tmp_path / "t.csv", x, labels, "a,b,c,species")
    with pytest.raises(ValueError, match=r"label_column='label' is not a column; columns: "
                                         r"\['a', 'b', 'c', 'species'\]"):
        fit_table(path, "label")


def test_missing_values_and_text_features_are_errors_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,colour,kind\n1,2,x\n2,,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3, column 'colour': missing value ''"):
        fit_table(path)
    path.write_text("a,colour,kind\n1,2,x\n2,red,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"column 'colour': 'red' is not a number"):
        fit_table(path)
    npz = tmp_path / "nan.npz"
    np.savez(npz, X=np.array([[0.0, 1.0], [np.nan, 2.0]]), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"holds 1 NaN or infinite values \(first in row 1, "
                                         r"feature 0\)"):
        fit_table(npz)


def test_a_changed_table_is_refused(tmp_path: Path) -> None:
    x, labels = make_table()
    path = write_csv(tmp_path / "t.csv", x, labels, "a,b,c,species")
    fit = fit_table(path)
    write_csv(path, x + 1, labels, "a,b,c,species")
    with pytest.raises(ValueError, match="changed since training"):
        table_split(fit, "test")
    path.unlink()
    with pytest.raises(FileNotFoundError, match="training table"):
        table_split(fit, "test")


def test_new_rows_match_columns_by_name_and_keep_the_training_scaling(tmp_path: Path) -> None:
    x, labels = make_table()
    fit = fit_table(write_csv(tmp_path / "t.csv", x, labels, "a,b,c,species"))
    shuffled = tmp_path / "other.csv"
    pairs = zip(x[:6].tolist(), labels[:6], strict=True)
    rows = [f"{r[2]},{lab},{r[0]},{r[1]}" for r, lab in pairs]
    shuffled.write_text("c,species,a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    got = table_rows(fit, shuffled)
    same = table_rows(fit, tmp_path / "t.csv")
    assert np.array_equal(got.x, same.x[:6]) and np.array_equal(got.y, same.y[:6])
    assert got.y.tolist() == [0, 1, 2, 0, 1, 2]


@pytest.mark.parametrize(("text", "message"), [
    ("a,b,species\n1,2,setosa\n", r"missing \['c'\], not trained on \[\]"),
    ("a,b,c,d,species\n1,2,3,4,setosa\n", r"missing \[\], not trained on \['d'\]"),
    ("a,b,c,species\n1,2,3,rose\n", r"labels \['rose'\] are not classes of the run"),
    ("a,b,c,kind\n1,2,3,setosa\n", "label_column='species' is not a column"),
])
def test_new_rows_that_do_not_fit_the_run(tmp_path: Path, text: str, message: str) -> None:
    x, labels = make_table()
    fit = fit_table(write_csv(tmp_path / "t.csv", x, labels, "a,b,c,species"))
    other = tmp_path / "o.csv"
    other.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        table_rows(fit, other)


def test_only_csv_and_npz(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"must end in \.csv or \.npz"):
        fit_table(path)
