"""A user's CSV or `.npz` table as a run's dataset, readable again in any process.

`fit_table` reads a file once and returns a `TableSource`: the path, the file's
sha256, the label column, the class names, the feature names and the minimum and
maximum of every feature over the train rows (the min-max scaling). A training
run records these in its config, so a later process can

- `table_split`: reload a split of the same file (checked against the sha256),
  with the frozen stratified 25% test split of `bitlogic.data.splits`;
- `table_rows`: read every row of another file with the same columns, scaled
  and labelled exactly as in training (values outside the train range clip).

The label column ("target") of a CSV file is a column name (the last column by
default; "0", "1", ... for a file without a header); of an `.npz` archive it
is the label array's key ("y" by default), next to the features "X" (or "x").
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bitlogic.data.dataset import Dataset, check_split
from bitlogic.data.splits import fixed_test_split
from bitlogic.data.tables import looks_like_header, read_csv_table, read_npz_table
from bitlogic.data.tabular import apply_minmax
from bitlogic.netlist.scaling import InputScaling

TABLE_SUFFIXES = (".csv", ".npz")


@dataclass(frozen=True)
class TableSource:
    """What a run records about its training table.

    Attributes:
        path: the file, as given.
        sha256: hex digest of the file's bytes when it was fitted.
        target: the label column (CSV) or label array key (`.npz`).
        class_names: the labels in class-index order.
        feature_names: CSV column names in feature order; () for `.npz`.
        feature_min: per-feature minimum over the train rows, (num_features,).
        feature_max: per-feature maximum over the train rows, (num_features,).
    """

    path: str
    sha256: str
    target: str
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    feature_min: tuple[float, ...]
    feature_max: tuple[float, ...]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fit_table(path: str | os.PathLike[str], target: str | None = None) -> TableSource:
    """Read a table and fit what training needs to record about it.

    Args:
        path: a `.csv` or `.npz` file.
        target: the label column or array; None: the last CSV column, or "y".

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: naming the file and the column, for a bad suffix, an unknown
            target, a missing value or a non-numeric feature.
    """
    x, y, class_names, feature_names, target = _read(Path(path), target)
    # The float32-rounded values, as apply_minmax scales them (see fit_minmax).
    train = x[fixed_test_split(y, "train")].astype(np.float32).astype(np.float64)
    return TableSource(
        path=str(path),
        sha256=file_sha256(path),
        target=target,
        class_names=class_names,
        feature_names=feature_names,
        feature_min=tuple(float(v) for v in train.min(axis=0)),
        feature_max=tuple(float(v) for v in train.max(axis=0)),
    )


def table_split(source: TableSource, split: str) -> Dataset:
    """One split ("train" or "test") of the recorded training table.

    Raises:
        FileNotFoundError: if the file is gone.
        ValueError: if the file changed since it was fitted (another sha256).
    """
    check_split(split)
    path = Path(source.path)
    if not path.is_file():
        raise FileNotFoundError(f"the run's training table {path} does not exist")
    digest = file_sha256(path)
    if digest != source.sha256:
        raise ValueError(f"the run's training table {path} changed since training "
                         f"(sha256 {digest[:12]}..., recorded {source.sha256[:12]}...)")
    x, y, _, _, _ = _read(path, source.target)
    rows = fixed_test_split(y, split)
    return _dataset(source, path, x[rows], y[rows], split)


def table_rows(source: TableSource, path: str | os.PathLike[str]) -> Dataset:
    """Every row of another table with the training table's columns and classes.

    CSV columns are matched by name (any order); `.npz` features by position.

    Raises:
        ValueError: naming the file, if a column or the target is missing, a
            feature count differs, or a label is not one of the run's classes.
    """
    path = Path(path)
    x, codes, names, features, _ = _read(path, source.target)
    if source.feature_names and features != source.feature_names:
        missing = [f for f in source.feature_names if f not in features]
        extra = [f for f in features if f not in source.feature_names]
        if missing or extra:
            raise ValueError(f"{path}: its columns differ from the training table's; "
                             f"missing {missing}, not trained on {extra}")
        x = x[:, [features.index(f) for f in source.feature_names]]
    if x.shape[1] != len(source.feature_min):
        raise ValueError(f"{path}: {x.shape[1]} features per row; the run was trained on "
                         f"{len(source.feature_min)}")
    index = {name: i for i, name in enumerate(source.class_names)}
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise ValueError(f"{path}: labels {unknown} are not classes of the run; its classes: "
                         f"{list(source.class_names)}")
    y = np.array([index[name] for name in names], dtype=np.int64)[codes]
    return _dataset(source, path, x, y, "test")


def _dataset(source: TableSource, path: Path, x: np.ndarray, y: np.ndarray,
             split: str) -> Dataset:
    low = np.asarray(source.feature_min, dtype=np.float64)
    span = np.asarray(source.feature_max, dtype=np.float64) - low
    inv_range = np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
    return Dataset(x=apply_minmax(x, low, inv_range), y=y.astype(np.int64),
                   num_classes=len(source.class_names), name=path.stem, split=split,
                   feature_shape=_feature_shape(path, x),
                   scaling=InputScaling.minmax(low, inv_range), raw_x=x.astype(np.float32))


def _feature_shape(path: Path, x: np.ndarray) -> tuple[int, ...]:
    # An .npz archive keeps its per-sample shape (images), a CSV row is flat.
    if path.suffix.lower() != ".npz":
        return (x.shape[1],)
    with np.load(path, allow_pickle=False) as archive:
        return tuple(int(d) for d in archive[_npz_x_key(archive.files)].shape[1:])


def _read(path: Path, target: str | None
          ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...], str]:
    """(x float64 (n, num_features), y codes (n,), class names, feature names, target)."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: a data file must end in .csv or .npz")
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    if suffix == ".csv":
        x, y, features, classes = read_csv_table(path, target)
        if target is None:
            target = _csv_columns(path)[-1]
        return x, y, classes, features, target
    with np.load(path, allow_pickle=False) as archive:
        x_key = _npz_x_key(archive.files)
    y_key = "y" if target is None else target
    x, y, classes = read_npz_table(path, x_key=x_key, y_key=y_key)
    return x.reshape(x.shape[0], -1).astype(np.float64), y, classes, (), y_key


def _csv_columns(path: Path) -> list[str]:
    """The column names read_csv_table uses: the header, or "0", "1", ..."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row][:2]
    if looks_like_header(rows):
        return [name.strip() for name in rows[0]]
    return [str(i) for i in range(len(rows[0]))]


def _npz_x_key(files: list[str]) -> str:
    return "x" if "X" not in files and "x" in files else "X"
