"""`download`: fetch a dataset's official files, verified, atomic and resumable.

Every file is written to `<name>.part`, checked against its SHA-256 and only then
renamed into place with `os.replace`, so a final file name always holds verified
data. An interrupted transfer leaves the `.part` file behind; the next call asks
the server for the rest with an HTTP `Range: bytes=N-` header and appends, or
starts over when the server answers with the whole file. A resumed file that fails
its checksum is fetched once more from scratch; a fresh one that fails raises
`ChecksumError` and is deleted.

CIFAR-10 comes as one tarball without a published SHA-256. It is fetched the same
way (kept as `<data_dir>/cifar-10-binary.tar.gz` until extracted), then each
needed member is extracted to a `.part` file and checked against the digests in
`bitlogic.data.sources.SHA256`; the tarball is deleted afterwards, and also when a
member fails, so that the next call fetches a fresh one. Only the expected members
are read, by name, so a hostile archive cannot write elsewhere.

Two processes must not download the same dataset into the same directory at once.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tarfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from bitlogic import __version__
from bitlogic.data.paths import resolve_data_dir
from bitlogic.data.registry import get_dataset_info, list_datasets
from bitlogic.data.sources import SHA256, Source

CHUNK_BYTES = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


class ChecksumError(ValueError):
    """A downloaded or extracted file does not have the expected SHA-256."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so large files use little memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _copy_stream(src: BinaryIO, dst: BinaryIO, bar: tqdm | None = None) -> int:
    copied = 0
    while chunk := src.read(CHUNK_BYTES):
        dst.write(chunk)
        copied += len(chunk)
        if bar is not None:
            bar.update(len(chunk))
    return copied


def _fetch(url: str, part: Path, progress: bool, timeout: float) -> None:
    """Bring `part` up to the full content of `url`, resuming what it already holds.

    Raises:
        OSError: if the server cannot be reached or answers with an error; `part`
            keeps what arrived, for the next call to resume.
    """
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": f"bitlogic/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # The range starts at or past the end: `part` already holds the whole
            # file (or garbage), and the checksum that follows decides which.
            return
        raise OSError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", exc)
        raise OSError(f"download of {url} failed: {reason}") from exc
    with response:
        mode = "wb"
        if offset and response.status == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                # A range we did not ask for cannot be appended; start over once,
                # without the Range header because `part` is removed first.
                part.unlink()
                response.close()
                _fetch(url, part, progress, timeout)
                return
            mode = "ab"
        else:
            offset = 0  # a 200 means the server ignored Range and sends everything
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        with (
            part.open(mode) as handle,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(".part"),
                disable=not progress,
            ) as bar,
        ):
            try:
                received = _copy_stream(response, handle, bar)
                # http.client returns a short body without error when the peer closes
                # early, so completeness is judged against Content-Length here.
                if total is not None and offset + received < total:
                    raise http.client.IncompleteRead(b"", total - offset - received)
            except (OSError, http.client.HTTPException) as exc:
                raise OSError(
                    f"download of {url} was interrupted ({exc!r}); {part} keeps what "
                    "arrived and the next call to download resumes from there"
                ) from exc


def _fetch_verified(url: str, dest: Path, sha256: str, progress: bool, timeout: float) -> None:
    part = _part(dest)
    resumed = part.is_file() and part.stat().st_size > 0
    _fetch(url, part, progress, timeout)
    actual = sha256_of(part)
    if actual != sha256 and resumed:
        # The old bytes may come from another version of the file: one fresh try.
        part.unlink()
        _fetch(url, part, progress, timeout)
        actual = sha256_of(part)
    if actual != sha256:
        part.unlink()
        raise ChecksumError(
            f"{url}: SHA-256 {actual} does not match the expected {sha256}; the download "
            f"was deleted and {dest} was not written"
        )
    os.replace(part, dest)


def _is_verified(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def _extract_verified(
    archive: Path, subdir: str, wanted: Mapping[str, str], folder: Path
) -> None:
    """Extract `subdir/<name>` for every name in `wanted` and check each digest."""
    members = {f"{subdir}/{name}": name for name in wanted}
    parts: dict[str, Path] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                # Some tar writers store "./dir/file"; both spellings name the same member.
                name = members.get(member.name.removeprefix("./"))
                if name is None or name in parts:
                    continue
                if not member.isfile():
                    raise ValueError(f"{archive}: member {member.name} is not a regular file")
                source = tar.extractfile(member)
                if source is None:
                    raise ValueError(f"{archive}: member {member.name} has no content")
                parts[name] = _part(folder / name)
                with source, parts[name].open("wb") as handle:
                    _copy_stream(source, handle)
        missing = sorted(set(wanted) - set(parts))
        if missing:
            raise ValueError(f"{archive}: lacks the members {[f'{subdir}/{m}' for m in missing]}")
        digests = {name: sha256_of(part) for name, part in parts.items()}
        bad = {name: got for name, got in digests.items() if got != wanted[name]}
        if bad:
            detail = "; ".join(f"{n}: got {g}, expected {wanted[n]}" for n, g in bad.items())
            raise ChecksumError(f"{archive}: extracted files fail their SHA-256 check ({detail})")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        for part in parts.values():
            part.unlink(missing_ok=True)
        archive.unlink(missing_ok=True)
        if isinstance(exc, ChecksumError):
            raise ChecksumError(f"{exc}; the archive was deleted, nothing was installed") from None
        raise ValueError(
            f"{archive}: cannot extract ({exc}); the archive was deleted, call download "
            "again to fetch a fresh copy"
        ) from exc
    for name, part in parts.items():
        os.replace(part, folder / name)
    archive.unlink()


def _checksums_for(source: Source, overrides: Mapping[str, str] | None) -> dict[str, str]:
    table = dict(SHA256.get(source.subdir, {}))
    if overrides is not None:
        unknown = sorted(set(overrides) - set(source.files))
        if unknown:
            raise ValueError(
                f"checksums names files {unknown} that are not part of {source.subdir}/; "
                f"allowed: {list(source.files)}"
            )
        table.update(overrides)
    lacking = [name for name in source.files if name not in table]
    if lacking:
        raise ValueError(f"no SHA-256 known for {lacking}; pass them with checksums=")
    return {name: table[name].lower() for name in source.files}


def download(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    progress: bool = True,
    *,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download a dataset's official files into `<data_dir>/<subfolder>/`.

    Files already present with the right SHA-256 are not fetched again.

    Args:
        name: a dataset with files: "mnist", "fashion-mnist" or "cifar10".
        data_dir: target data directory; None uses `BITLOGIC_DATA`, else
            `~/.cache/bitlogic/data`.
        base_url: replaces the official mirror (see `bitlogic.data.sources`); each
            file, or CIFAR-10's tarball, is fetched from `base_url + "/" + file`.
        progress: show a tqdm progress bar per file on stderr.
        checksums: SHA-256 hex digests by file name (e.g. "test_batch.bin"), replacing
            those of `bitlogic.data.sources.SHA256` for the files named.
        timeout: seconds any single socket operation may block.

    Returns:
        The folder holding the verified files, e.g. `<data_dir>/mnist`.

    Raises:
        KeyError: if `name` is not registered.
        ValueError: if the dataset has nothing to download, or `checksums` names
            unknown files, or an archive cannot be extracted.
        ChecksumError: (a ValueError) if a file fails its SHA-256 check; no final
            file is written.
        OSError: on network or HTTP errors; partial data stays in `.part` files.
    """
    source = get_dataset_info(name).source
    if source is None:
        with_files = [n for n in list_datasets() if get_dataset_info(n).source is not None]
        raise ValueError(
            f"dataset {name!r} has no files to download (it ships with its library); "
            f"downloadable: {', '.join(with_files)}"
        )
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout={timeout!r} must be a positive number of seconds")
    expected = _checksums_for(source, checksums)
    root = resolve_data_dir(data_dir)
    folder = root / source.subdir
    folder.mkdir(parents=True, exist_ok=True)
    base = (base_url if base_url is not None else source.base_url).rstrip("/") + "/"
    todo = {n: h for n, h in expected.items() if not _is_verified(folder / n, h)}
    if not todo:
        return folder
    if source.archive is None:
        for file_name, sha256 in todo.items():
            _fetch_verified(base + file_name, folder / file_name, sha256, progress, timeout)
        return folder
    archive = root / source.archive
    # The archive has no checksum of its own: it counts as complete once _fetch
    # returns, and its members are verified one by one during extraction. An archive
    # left by an interrupted extraction is reused; if it is bad, extraction deletes it.
    if not archive.is_file():
        _fetch(base + source.archive, _part(archive), progress, timeout)
        os.replace(_part(archive), archive)
    _extract_verified(archive, source.subdir, todo, folder)
    return folder
