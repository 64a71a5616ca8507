"""bitlogic.data.download against a Range-capable HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import shutil
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from bitlogic.data import ChecksumError, download, load_dataset
from bitlogic.data import registry as registry_module

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files whole or from a `Range: bytes=N-` offset, as S3 and most servers do.

    Server attributes steer it: `requests` logs (path, Range header); with
    `honour_range` False the Range header is ignored; with `wrong_range` a 206 for
    the whole file answers any Range; `cut_after` bytes of the body
    are sent before the connection is dropped; `stall` makes it wait for `release`.
    """

    server: FileServer

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Range")))
        if self.server.stall:
            self.server.release.wait(10)
            return
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if match and self.server.honour_range:
            start = 0 if self.server.wrong_range else int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = self.server.cut_after
        self.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), partial(RangeHandler, directory=str(root)))
        self.root = root
        self.requests: list[tuple[str, str | None]] = []
        self.honour_range = True
        self.wrong_range = False
        self.cut_after: int | None = None
        self.stall = False
        self.release = threading.Event()

    def url(self, folder: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{folder}"

    def ranges(self, name: str) -> list[str | None]:
        return [r for path, r in self.requests if path.endswith("/" + name)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "served"
    root.mkdir()
    srv = FileServer(root)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def mnist_server(server: FileServer, shared: Path) -> FileServer:
    (server.root / "mnist").mkdir()
    for name in MNIST_FILES:
        (server.root / "mnist" / name).symlink_to(shared / "mnist" / name)
    return server


def prepare(dest: Path, shared: Path, present: tuple[str, ...]) -> Path:
    """Create `dest/mnist` holding verified copies of `present`."""
    folder = dest / "mnist"
    folder.mkdir(parents=True)
    for name in present:
        shutil.copy(shared / "mnist" / name, folder / name)
    return folder


def all_but(name: str) -> tuple[str, ...]:
    return tuple(n for n in MNIST_FILES if n != name)


def test_download_is_byte_identical_and_skips_verified_files(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "data"
    folder = download("mnist", data_dir=dest, base_url=mnist_server.url("mnist"), progress=False)
    assert folder == dest / "mnist"
    for name in MNIST_FILES:
        assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)  # no .part left
    assert len(mnist_server.requests) == 4
    download("mnist", data_dir=dest, base_url=mnist_server.url("mnist"), progress=False)
    assert len(mnist_server.requests) == 4
    assert load_dataset("mnist", "test", data_dir=dest).x.shape == (10000, 784)


def test_truncated_part_file_is_resumed_with_range(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-images-idx3-ubyte.gz"
    folder = prepare(tmp_path, shared, all_but(name))
    (folder / (name + ".part")).write_bytes((shared / "mnist" / name).read_bytes()[:500_000])
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert mnist_server.ranges(name) == ["bytes=500000-"]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()
    assert not (folder / (name + ".part")).exists()


def test_server_ignoring_range_restarts_from_scratch(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    folder = prepare(tmp_path, shared, all_but(name))
    (folder / (name + ".part")).write_bytes((shared / "mnist" / name).read_bytes()[:1000])
    mnist_server.honour_range = False
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert mnist_server.ranges(name) == ["bytes=1000-"]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()


def test_partial_answer_for_another_range_restarts_from_scratch(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    folder = prepare(tmp_path, shared, all_but(name))
    (folder / (name + ".part")).write_bytes((shared / "mnist" / name).read_bytes()[:1000])
    mnist_server.wrong_range = True
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert mnist_server.ranges(name) == ["bytes=1000-", None]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()


def test_resumed_part_with_wrong_prefix_is_fetched_again(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    folder = prepare(tmp_path, shared, all_but(name))
    (folder / (name + ".part")).write_bytes(b"\xff" * 1000)
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert mnist_server.ranges(name) == ["bytes=1000-", None]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()


def test_complete_part_file_answered_416_is_verified_and_kept(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    folder = prepare(tmp_path, shared, all_but(name))
    shutil.copy(shared / "mnist" / name, folder / (name + ".part"))
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert mnist_server.ranges(name) == [f"bytes={(shared / 'mnist' / name).stat().st_size}-"]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()


def test_interrupted_transfer_keeps_part_and_next_call_resumes(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-images-idx3-ubyte.gz"
    folder = prepare(tmp_path, shared, all_but(name))
    mnist_server.cut_after = 300_000
    with pytest.raises(OSError, match="interrupted.*resumes"):
        download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert (folder / (name + ".part")).stat().st_size == 300_000
    assert not (folder / name).exists()
    mnist_server.cut_after = None
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert mnist_server.ranges(name) == [None, "bytes=300000-"]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()


def test_corrupted_file_fails_checksum_and_leaves_nothing(
    server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    data = bytearray((shared / "mnist" / name).read_bytes())
    data[100] ^= 0x01
    (server.root / "mnist").mkdir()
    (server.root / "mnist" / name).write_bytes(bytes(data))
    folder = prepare(tmp_path, shared, all_but(name))
    with pytest.raises(ChecksumError, match=f"{name}: SHA-256 [0-9a-f]{{64}} does not match"):
        download("mnist", data_dir=tmp_path, base_url=server.url("mnist"), progress=False)
    assert not (folder / name).exists() and not (folder / (name + ".part")).exists()


def test_existing_corrupt_file_is_replaced(
    mnist_server: FileServer, shared: Path, tmp_path: Path
) -> None:
    name = "train-labels-idx1-ubyte.gz"
    folder = prepare(tmp_path, shared, MNIST_FILES)
    (folder / name).write_bytes(b"not mnist")
    download("mnist", data_dir=tmp_path, base_url=mnist_server.url("mnist"), progress=False)
    assert [p for p, _ in mnist_server.requests] == [f"/mnist/{name}"]
    assert (folder / name).read_bytes() == (shared / "mnist" / name).read_bytes()


def test_http_error_and_timeout_raise_oserror(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(OSError, match=r"/nowhere/train-images-idx3-ubyte.gz failed: HTTP 404"):
        download("mnist", data_dir=tmp_path, base_url=server.url("nowhere"), progress=False)
    server.stall = True
    with pytest.raises(OSError, match="failed: timed out"):
        download("mnist", tmp_path, server.url("mnist"), progress=False, timeout=0.3)


def test_download_via_load_dataset_uses_the_registered_source(
    mnist_server: FileServer, shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = registry_module.DATASETS.get("mnist")
    source = dataclasses.replace(info.source, base_url=mnist_server.url("mnist"))
    patched = registry_module.DATASETS.copy()
    patched.unregister("mnist")
    patched.register("mnist", dataclasses.replace(info, source=source))
    monkeypatch.setattr(registry_module, "DATASETS", patched)
    with pytest.raises(FileNotFoundError):
        load_dataset("mnist", "test", data_dir=tmp_path)
    d = load_dataset("mnist", "test", data_dir=tmp_path, download=True)
    assert len(d) == 10000 and len(mnist_server.requests) == 4


def test_download_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no files to download.*downloadable: cifar10"):
        download("digits", data_dir=tmp_path)
    with pytest.raises(KeyError, match="valid names"):
        download("imagenet", data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"checksums names files \['x.bin'\]"):
        download("cifar10", data_dir=tmp_path, checksums={"x.bin": "0" * 64})
    with pytest.raises(ValueError, match="timeout=0 must be a positive"):
        download("mnist", data_dir=tmp_path, timeout=0)
    assert not (tmp_path / "mnist").exists()


CIFAR_NAMES = (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin")


def cifar_tarball(path: Path, corrupt: str | None = None, skip: str | None = None) -> dict:
    """Write a small CIFAR-10-layout tarball; return the members' true SHA-256s."""
    rng = np.random.default_rng(0)
    files = {}
    for name in CIFAR_NAMES:
        records = rng.integers(0, 256, (3, 3073), dtype=np.uint8)
        records[:, 0] %= 10
        files[name] = records.tobytes()
    files["batches.meta.txt"] = b"airplane\nautomobile\n"
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    with tarfile.open(path, "w:gz") as tar:
        extra = {"cifar-10-batches-bin/readme.html": b"<html/>", "../escape.bin": b"x"}
        # One member spelled "./dir/file", as some tar writers do.
        named = [(f"cifar-10-batches-bin/{n}", d) for n, d in files.items()]
        named[0] = ("./" + named[0][0], named[0][1])
        for member, data in [*named, *extra.items()]:
            if skip and member.endswith(skip):
                continue
            if corrupt and member.endswith(corrupt):
                data = data[:-1] + b"\x00"
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sums


def test_cifar_tarball_is_extracted_and_verified(server: FileServer, tmp_path: Path) -> None:
    (server.root / "cifar").mkdir()
    sums = cifar_tarball(server.root / "cifar" / "cifar-10-binary.tar.gz")
    dest = tmp_path / "data"
    folder = download("cifar10", dest, server.url("cifar"), progress=False, checksums=sums)
    assert sorted(p.name for p in folder.iterdir()) == sorted(sums)
    assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-bin"]  # tarball gone
    assert not (tmp_path / "escape.bin").exists()
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    d = load_dataset("cifar10", "train", data_dir=dest)
    assert d.x.shape == (15, 3072) and d.feature_shape == (3, 32, 32)
    download("cifar10", dest, server.url("cifar"), progress=False, checksums=sums)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"corrupt": "test_batch.bin"}, ChecksumError, "test_batch.bin: got [0-9a-f]{64}"),
        ({"skip": "data_batch_3.bin"}, ValueError, "lacks the members.*data_batch_3.bin"),
    ],
)
def test_bad_cifar_tarball_installs_nothing(
    server: FileServer, tmp_path: Path, kwargs: dict, error: type, message: str
) -> None:
    (server.root / "cifar").mkdir()
    sums = cifar_tarball(server.root / "cifar" / "cifar-10-binary.tar.gz", **kwargs)
    dest = tmp_path / "data"
    with pytest.raises(error, match=message):
        download("cifar10", dest, server.url("cifar"), progress=False, checksums=sums)
    assert list((dest / "cifar-10-batches-bin").iterdir()) == []
    assert not (dest / "cifar-10-binary.tar.gz").exists()
