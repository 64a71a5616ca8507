"""Train an MLP of BitLinear layers on MNIST and check the packed model agrees.

Every layer, including the classifier, is a BitLinear (ternary weights, 8-bit
per-token activations, RMSNorm in front). After training, the layers are packed
to 2-bit weights and the test set is classified again with the C kernel; the
logits must match ``model.eval()`` bit for bit.

Usage:
    python benchmarks/ternary_mnist.py [--epochs 5] [--hidden 1024] [--data DIR]

Reads the official gzipped IDX files (no dependency on ``bitlogic.data``) and
writes ``benchmarks/results/ternary_mnist.md``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import struct
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bitlogic.ternary import BitLinear

DATA_DIR = Path("/work/shared/data/mnist")
FILES = {
    "train_x": "train-images-idx3-ubyte.gz",
    "train_y": "train-labels-idx1-ubyte.gz",
    "test_x": "t10k-images-idx3-ubyte.gz",
    "test_y": "t10k-labels-idx1-ubyte.gz",
}
RESULTS = Path(__file__).parent / "results" / "ternary_mnist.md"


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (unsigned-byte data) into an array of its declared shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (header {data[:4]!r})")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(data_dir: Path) -> dict[str, torch.Tensor]:
    """Images as float32 ``[N, 784]`` in ``[0, 1]``, labels as int64 ``[N]``."""
    arrays = {key: read_idx(data_dir / name) for key, name in FILES.items()}
    return {
        "train_x": torch.from_numpy(arrays["train_x"].reshape(-1, 784).astype(np.float32) / 255),
        "train_y": torch.from_numpy(arrays["train_y"].astype(np.int64)),
        "test_x": torch.from_numpy(arrays["test_x"].reshape(-1, 784).astype(np.float32) / 255),
        "test_y": torch.from_numpy(arrays["test_y"].astype(np.int64)),
    }


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (falls back to the platform string)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_mlp(hidden: int) -> nn.Sequential:
    """784 -> hidden -> hidden -> 10, all BitLinear, ReLU between."""
    return nn.Sequential(
        BitLinear(784, hidden),
        nn.ReLU(),
        BitLinear(hidden, hidden),
        nn.ReLU(),
        BitLinear(hidden, 10),
    )


def packed_copy(model: nn.Sequential) -> nn.Sequential:
    """The same network with every BitLinear replaced by its PackedBitLinear."""
    return nn.Sequential(*[m.pack() if isinstance(m, BitLinear) else m for m in model])


@torch.no_grad()
def logits(model: nn.Module, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])


def train(
    data: dict[str, torch.Tensor],
    epochs: int = 5,
    hidden: int = 1024,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    log=print,
) -> dict[str, float]:
    """Train, evaluate float-eval and packed models; returns accuracies and timings."""
    torch.manual_seed(seed)
    model = build_mlp(hidden)
    steps = epochs * (len(data["train_x"]) // batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # Linear decay to zero: BitNet-style training benefits from a high initial rate.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / steps)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    epoch_seconds = []
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(data["train_x"]))
        total = 0.0
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(model(data["train_x"][idx]), data["train_y"][idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        epoch_seconds.append(time.perf_counter() - epoch_start)
        model.eval()
        acc = (logits(model, data["test_x"]).argmax(1) == data["test_y"]).float().mean().item()
        log(
            f"epoch {epoch + 1}: train loss {total / (len(order) // batch_size):.4f}, "
            f"test acc {acc:.4f}, {time.perf_counter() - start:.0f} s"
        )
    train_s = time.perf_counter() - start
    model.eval()
    t0 = time.perf_counter()
    eval_logits = logits(model, data["test_x"])
    eval_s = time.perf_counter() - t0
    packed = packed_copy(model)
    t0 = time.perf_counter()
    packed_logits = logits(packed, data["test_x"])
    packed_s = time.perf_counter() - t0
    return {
        "test_acc": (eval_logits.argmax(1) == data["test_y"]).float().mean().item(),
        "packed_test_acc": (packed_logits.argmax(1) == data["test_y"]).float().mean().item(),
        "packed_bit_exact": bool(torch.equal(eval_logits, packed_logits)),
        "train_seconds": train_s,
        "fastest_epoch_seconds": min(epoch_seconds),
        "eval_seconds": eval_s,
        "packed_eval_seconds": packed_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args()
    data = load_mnist(args.data)
    result = train(data, args.epochs, args.hidden, args.batch_size, args.lr)
    lines = [
        "# BitLinear MLP on MNIST",
        "",
        f"Machine: {cpu_model()} ({os.cpu_count()} logical CPUs), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads.",
        f"Model: 784-{args.hidden}-{args.hidden}-10, every layer BitLinear "
        "(ternary weights, int8 activations, RMSNorm); "
        f"Adam lr {args.lr} linear decay, batch {args.batch_size}, {args.epochs} epochs.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| test accuracy (model.eval()) | {result['test_acc']:.4f} |",
        f"| test accuracy (packed, 2-bit weights) | {result['packed_test_acc']:.4f} |",
        f"| packed logits bit-identical to eval | {result['packed_bit_exact']} |",
        f"| training time (wall, incl. per-epoch test) | {result['train_seconds']:.0f} s |",
        f"| fastest epoch (training steps only) | {result['fastest_epoch_seconds']:.0f} s |",
        f"| test-set inference, model.eval() in PyTorch | {result['eval_seconds'] * 1e3:.0f} ms |",
        f"| test-set inference, packed kernel | {result['packed_eval_seconds'] * 1e3:.0f} ms |",
    ]
    print("\n".join(lines))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
