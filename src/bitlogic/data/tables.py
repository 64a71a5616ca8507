"""Generic feature tables: CSV files with a header row, and `.npz` archives.

`read_csv_table` and `read_npz_table` return raw features and encoded labels;
`load_table` turns either into a `Dataset` split with the frozen 25% stratified
test split and train-fitted min-max scaling of `bitlogic.data.tabular`.

Labels of any type are encoded as 0..K-1 in sorted order: numerically when every
label is an integer, as text otherwise; the original labels are returned as
`class_names`.

A CSV file may have a header row or not (`header=None` detects it); without
one, the columns are named by their 0-based position, "0", "1", ... . Every
feature cell must be a finite number: a missing cell (empty, "NA", "nan", "?",
...) or text is an error naming the line and the column, never a silent NaN.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from bitlogic.data.dataset import Dataset, check_split
from bitlogic.data.splits import fixed_test_split
from bitlogic.data.tabular import split_and_scale, train_minmax_scaling

SCALINGS = ("minmax", "none")
# Cells that spreadsheets and pandas write for "no value" (compared lower-cased).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


def encode_labels(labels: np.ndarray | list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map arbitrary labels to class indices 0..K-1.

    Args:
        labels: array-like, shape (n,), of ints or strings.

    Returns:
        (codes, class_names): int64 array of shape (n,) and the K original labels as
        strings, in code order.
    """
    values = np.asarray(labels)
    if values.dtype.kind in "iub":
        classes, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64), tuple(str(c) for c in classes.tolist())
    text = values.astype(str)
    try:
        # Integers written as text ("10" after "9") should still sort numerically.
        numbers = np.array([int(v) for v in text.tolist()], dtype=np.int64)
    except ValueError:
        classes, codes = np.unique(text, return_inverse=True)
        return codes.astype(np.int64), tuple(classes.tolist())
    return encode_labels(numbers)


def read_csv_table(
    path: str | os.PathLike[str], label_column: str | None = None, *, header: bool | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Read a CSV file of numeric features and one label column.

    Args:
        path: the CSV file (comma-separated, optionally quoted).
        label_column: name of the label column (for a file without a header, its
            0-based position as text, e.g. "4"); None picks the last column.
        header: whether the first row names the columns; None detects it (a header
            is a first row with text where the second row has numbers, or with text
            only).

    Returns:
        (x, y, feature_names, class_names): float64 (n, num_features), int64 (n,)
        from `encode_labels`, the feature column names, and the class names.

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: naming the file, if it has no header or rows, `label_column` is not
            a column, a row has the wrong number of fields, a cell is missing, or a
            feature value is not a finite number (naming the line and the column).
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        # Blank lines are skipped, but line numbers are kept for error messages.
        rows = [(reader.line_num, row) for row in reader if row]
    if not rows:
        raise ValueError(f"{path}: empty CSV file")
    if header is None:
        header = looks_like_header([row for _, row in rows[:2]])
    if header:
        names = [name.strip() for name in rows[0][1]]
        body = rows[1:]
    else:
        names = [str(i) for i in range(len(rows[0][1]))]
        body = rows
    if len(names) < 2:
        raise ValueError(f"{path}: columns {names} must name at least one feature and a label")
    if label_column is None:
        label_at = len(names) - 1
    elif label_column in names:
        label_at = names.index(label_column)
    else:
        raise ValueError(
            f"{path}: label_column={label_column!r} is not a column; columns: {names}"
        )
    if not body:
        raise ValueError(f"{path}: no data rows after the header")
    features = [i for i in range(len(names)) if i != label_at]
    x = np.empty((len(body), len(features)), dtype=np.float64)
    labels: list[str] = []
    for r, (line, row) in enumerate(body):
        if len(row) != len(names):
            raise ValueError(
                f"{path}: line {line} has {len(row)} fields; the header has {len(names)}"
            )
        label = row[label_at].strip()
        if label.lower() in MISSING_TOKENS:
            raise ValueError(f"{path}: line {line}, label column {names[label_at]!r}: missing "
                             f"label {row[label_at]!r}; drop that row or give it a class")
        labels.append(label)
        for j, col in enumerate(features):
            x[r, j] = _feature_value(row[col], path, line, names[col])
    y, class_names = encode_labels(labels)
    return x, y, tuple(names[i] for i in features), class_names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_text(text: str) -> bool:
    """Neither a number nor a missing-value token: a name or a category."""
    return not _is_number(text) and text.strip().lower() not in MISSING_TOKENS


def looks_like_header(first_rows: list[list[str]]) -> bool:
    """Whether the first of these (one or two) rows names the columns."""
    first = first_rows[0]
    if all(_is_text(v) for v in first):
        return True
    if len(first_rows) < 2:
        return False
    second = first_rows[1]
    return any(_is_text(a) and _is_number(b) for a, b in zip(first, second, strict=False))


def _feature_value(text: str, path: Path, line: int, column: str) -> float:
    """One feature cell as a float; a missing cell or text is the file's error."""
    where = f"{path}: line {line}, column {column!r}"
    if text.strip().lower() in MISSING_TOKENS:
        raise ValueError(f"{where}: missing value {text!r}; every feature cell needs a "
                         "number (drop or fill those rows first)")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number; feature columns must be "
                         "numeric (encode categories as numbers, or drop the column)") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {text!r} is not a finite number")
    return value


def read_npz_table(
    path: str | os.PathLike[str], x_key: str = "X", y_key: str = "y"
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read features and labels from a `.npz` archive, without unpickling.

    Args:
        path: the `.npz` file.
        x_key: name of the feature array, shape (n, ...), numeric.
        y_key: name of the label array, shape (n,), integers or strings.

    Returns:
        (x, y, class_names): x as stored (any numeric dtype, shape (n, ...)),
        int64 (n,) from `encode_labels`, and the class names.

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: naming the file, if a key is missing, an array holds Python
            objects, or the shapes are wrong.
    """
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds a single array, not a .npz archive of named arrays")
    with archive:
        for key, arg in ((x_key, "x_key"), (y_key, "y_key")):
            if key not in archive.files:
                raise ValueError(
                    f"{path}: {arg}={key!r} is not an array in it; it has {archive.files}"
                )
        try:
            x, labels = archive[x_key], archive[y_key]
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise ValueError(f"{path}: cannot load without pickle ({exc})") from exc
    if x.ndim < 2 or x.dtype.kind not in "iufb":
        raise ValueError(
            f"{path}: {x_key!r} must be numeric of shape (n, ...), got {x.dtype} {x.shape}"
        )
    if labels.shape != (x.shape[0],):
        raise ValueError(
            f"{path}: {y_key!r} must have shape ({x.shape[0]},) to match {x_key!r}, "
            f"got {labels.shape}"
        )
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x.reshape(x.shape[0], -1)))
        raise ValueError(
            f"{path}: {x_key!r} holds {len(bad)} NaN or infinite values (first in row "
            f"{bad[0][0]}, feature {bad[0][1]}); fill or drop them first"
        )
    y, class_names = encode_labels(labels)
    return x, y, class_names


def load_table(
    path: str | os.PathLike[str],
    split: str = "train",
    *,
    label_column: str | None = None,
    header: bool | None = None,
    x_key: str = "X",
    y_key: str = "y",
    scaling: str = "minmax",
    name: str | None = None,
) -> Dataset:
    """Load one split of a CSV or `.npz` table as a `Dataset`.

    The split is the frozen stratified 25% test split (seed 0) of
    `bitlogic.data.splits.fixed_test_split`, computed on the whole file.

    Args:
        path: a `.csv` or `.npz` file (chosen by suffix).
        split: "train" or "test".
        label_column: CSV only: the label column's name; None picks the last column.
        header: CSV only: whether the first row names the columns; None detects it.
        x_key: `.npz` only: name of the feature array.
        y_key: `.npz` only: name of the label array.
        scaling: "minmax" scales each feature with the train rows' min and max
            (test clipped to [0, 1]); "none" keeps values, which must then already
            lie in [0, 1].
        name: the Dataset's name; defaults to the file's stem.

    Returns:
        Dataset with x float32 (n, num_features), feature_shape (num_features,) for
        CSV and the stored per-sample shape for `.npz`.

    Raises:
        ValueError: if `split`, `scaling` or the file suffix is not allowed, or the file
            is malformed.
    """
    path = Path(path)
    check_split(split)
    if scaling not in SCALINGS:
        raise ValueError(f"scaling={scaling!r} is not valid; allowed: {', '.join(SCALINGS)}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        x, y, _, class_names = read_csv_table(path, label_column, header=header)
    elif suffix == ".npz":
        x, y, class_names = read_npz_table(path, x_key, y_key)
    else:
        raise ValueError(f"path={str(path)!r} must end in .csv or .npz")
    feature_shape = tuple(int(d) for d in x.shape[1:])
    x = x.reshape(x.shape[0], -1)
    raw_x = x[fixed_test_split(y, split)].astype(np.float32)
    input_scaling = None  # with scaling="none" the raw features are the scaled ones
    if scaling == "minmax":
        x_split, y_split = split_and_scale(x, y, split)
        input_scaling = train_minmax_scaling(x, y)
    else:
        if x.size and not (x.min() >= 0 and x.max() <= 1):
            raise ValueError(
                f"{path}: scaling='none' needs features in [0, 1], got range "
                f"[{x.min()}, {x.max()}]; use scaling='minmax'"
            )
        rows = fixed_test_split(y, split)
        x_split, y_split = x[rows].astype(np.float32), y[rows]
    return Dataset(
        x=x_split,
        y=y_split,
        num_classes=len(class_names),
        name=name if name is not None else path.stem,
        split=split,
        feature_shape=feature_shape,
        scaling=input_scaling,
        raw_x=raw_x,
    )
