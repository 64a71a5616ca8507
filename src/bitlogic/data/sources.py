"""Official download locations and checksums of the file-based datasets.

The SHA-256 digests were computed from byte-identical copies of the official
distributions (MNIST and Fashion-MNIST have the same md5 as the originals).

CIFAR-10 is distributed as one tarball, `cifar-10-binary.tar.gz`, whose own
SHA-256 was not available when this table was made; `download` therefore checks
the files it extracts from the tarball against the digests below, which pins the
data just as firmly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where the files of one dataset come from.

    Attributes:
        subdir: folder under the data directory that holds the files; also the
            folder name inside `archive`, when there is one.
        files: names of the files the loaders read, inside `subdir`.
        base_url: default location; a file (or the archive) is fetched from
            `base_url + name`.
        archive: name of a `.tar.gz` holding `subdir/<file>` for every file, or None
            when each file is fetched on its own.
    """

    subdir: str
    files: tuple[str, ...]
    base_url: str
    archive: str | None = None


_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

MNIST = Source(
    subdir="mnist",
    files=_IDX_FILES,
    # yann.lecun.com now refuses automated downloads; this S3 bucket mirrors its
    # files byte for byte and is the one PyTorch's torchvision uses.
    base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
)

FASHION_MNIST = Source(
    subdir="fashion-mnist",
    files=_IDX_FILES,
    # Zalando's own bucket; its website endpoint serves plain HTTP only, which is
    # safe here because every file is checked against SHA256 below.
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

CIFAR10 = Source(
    subdir="cifar-10-batches-bin",
    files=(
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
        "batches.meta.txt",
    ),
    base_url="https://www.cs.toronto.edu/~kriz/",
    archive="cifar-10-binary.tar.gz",
)

# SHA-256 of every file, by dataset folder, then file name.
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
    },
    "fashion-mnist": {
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
    },
    "cifar-10-batches-bin": {
        "batches.meta.txt": "558e74b5e208382e186da55784b4bac2cd52e558448e1b5800990fdb28ed8033",
        "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
        "data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
        "data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
        "data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
        "data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
        "test_batch.bin": "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    },
}
