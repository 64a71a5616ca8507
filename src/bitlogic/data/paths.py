"""Where dataset files live on disk, and the error raised when one is missing.

The data directory is chosen in this order:

1. the `data_dir` argument of the call,
2. the `BITLOGIC_DATA` environment variable (when set and non-empty),
3. `~/.cache/bitlogic/data`.

Each file-based dataset lives in its own subfolder named like its official
distribution: `mnist/`, `fashion-mnist/`, `cifar-10-batches-bin/`.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "BITLOGIC_DATA"
DEFAULT_DATA_DIR = Path("~/.cache/bitlogic/data")


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory to use (it need not exist yet).

    Args:
        data_dir: explicit directory; when None, `BITLOGIC_DATA` or the default is used.

    Returns:
        The directory, with `~` expanded.

    Raises:
        TypeError: if `data_dir` is neither None, a str nor a path-like object.
    """
    if data_dir is None:
        env = os.environ.get(ENV_VAR, "")
        return Path(env).expanduser() if env else DEFAULT_DATA_DIR.expanduser()
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a str, a path or None, got {data_dir!r}")
    return Path(data_dir).expanduser()


def describe_data_dir(data_dir: str | os.PathLike[str] | None) -> str:
    """Say where the data directory came from, for error messages."""
    if data_dir is not None:
        return "from the data_dir argument"
    if os.environ.get(ENV_VAR, ""):
        return f"from the {ENV_VAR} environment variable"
    return f"the default; set {ENV_VAR} or pass data_dir to change it"


def missing_file_error(
    dataset: str, path: Path, data_dir: str | os.PathLike[str] | None
) -> FileNotFoundError:
    """Build the FileNotFoundError for a dataset file that is not on disk.

    Args:
        dataset: registry name of the dataset, e.g. "mnist".
        path: the file that was looked for.
        data_dir: the `data_dir` argument the caller received (None when defaulted),
            used to tell the user where the search directory came from.

    Returns:
        The exception, for the caller to raise.
    """
    root = resolve_data_dir(data_dir)
    return FileNotFoundError(
        f"{dataset}: file {path.name!r} not found in {path.parent} "
        f"(data directory {root}, {describe_data_dir(data_dir)}). "
        f"Fetch it with bitlogic.data.download({dataset!r}, data_dir={str(root)!r}), "
        f"or point the {ENV_VAR} environment variable at a directory that holds "
        f"{path.parent.name}/{path.name}."
    )
