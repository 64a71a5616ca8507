"""Guarding a run directory: one writer at a time, never a stranger's folder, resumes on record.

* :func:`claim_run_dir` refuses a non-empty directory that is not a bitlogic
  run (unless ``force``), then takes an exclusive ``fcntl.flock`` on
  ``<run>/.bitlogic.lock``: a second writer fails at once, naming the first
  one's process id. The lock goes with the process (a ``kill -9`` frees it);
  the file stays and marks the directory as a run.
* :func:`record_resume` appends what a resume changed to ``resumes.jsonl``;
  ``config.yaml`` keeps the config the run started with.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any

LOCK_FILE = ".bitlogic.lock"
RESUMES_FILE = "resumes.jsonl"
#: Files whose presence says "this directory is a bitlogic run".
RUN_MARKERS = (LOCK_FILE, "checkpoint.safetensors", "best.safetensors", "netlist.safetensors")


class RunDirError(FileExistsError):
    """The run directory cannot be written: another writer holds it, or it is not a run."""


def is_run_dir(path: Path) -> bool:
    """True when ``path`` holds a file only bitlogic writes there (lock, checkpoint, netlist)."""
    return any((path / name).is_file() for name in RUN_MARKERS)


class RunLock:
    """An exclusive lock on a run directory, held until :meth:`release` (or process exit)."""

    def __init__(self, handle: IO[str], path: Path):
        self._handle: IO[str] | None = handle
        self.path = path

    def release(self) -> None:
        """Unlock (idempotent); the lock file stays as the run marker."""
        import fcntl

        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_run_dir(out: str | os.PathLike[str], *, force: bool = False) -> RunLock:
    """Create ``out`` if needed, check that it may be written, and lock it.

    Args:
        out: the run directory.
        force: write into a non-empty directory that is not a bitlogic run
            (its ``config.yaml``, ``metrics.csv``, plots may be overwritten).

    Returns:
        The held :class:`RunLock`.

    Raises:
        RunDirError: ``out`` is a file, a non-empty non-run directory (without
            ``force``), or another process is writing to it.
    """
    import fcntl

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out} exists and is not a directory")
    if out.is_dir() and not force and not is_run_dir(out) and any(out.iterdir()):
        shown = sorted(p.name for p in out.iterdir())[:5]
        raise RunDirError(
            f"--out {out} is a non-empty directory that is not a bitlogic run (it holds "
            f"{', '.join(shown)}{', ...' if len(shown) == 5 else ''}); training would "
            f"overwrite files there. Choose an empty or new directory, or pass --force "
            f"(force=True) to write into it anyway"
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 -- held open for the lock's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunDirError(f"{out} is being written by another bitlogic process "
                          f"({holder}); wait for it to finish or choose another --out") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    handle.flush()
    return RunLock(handle, path)


def config_changes(before: dict[str, Any], after: dict[str, Any],
                   prefix: str = "") -> dict[str, list[Any]]:
    """``{"section.key": [before, after]}`` for every leaf that differs (nested dicts flattened)."""
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after), key=str):
        a, b = before.get(key), after.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changes.update(config_changes(a, b, name + "."))
        elif a != b:
            changes[name] = [a, b]
    return changes


def record_resume(out: Path, epoch: int, changes: dict[str, list[Any]]) -> Path:
    """Append one JSON line ``{"time", "epoch", "changed"}`` to ``out/resumes.jsonl``."""
    path = out / RESUMES_FILE
    line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "epoch": epoch,
                       "changed": changes}, default=str)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    return path
