"""Data-parallel training under ``torchrun``: process group, device, sampler, DDP wrap.

``torchrun --nproc_per_node=N`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``;
without them everything here degenerates to one process. The backend is gloo
on CPU and nccl on CUDA.

Batches: ``train.batch_size`` is the GLOBAL batch and is held constant, so each
rank takes ``batch_size / world_size`` samples per step. Every rank draws the
epoch's permutation from the same :class:`~torch.utils.data.DistributedSampler`
seed, and rank ``r`` takes positions ``r, r + W, r + 2W, ...``; the union of the
ranks' ``i``-th batches is therefore exactly the ``i``-th block of
``batch_size`` samples that a single process sees with the same seed, and
DDP's gradient average equals the single-process mean-loss gradient up to
float rounding.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job.

    Attributes:
        rank: global rank (0 writes files and shows progress).
        world_size: number of processes.
        local_rank: rank on this node (selects the CUDA device).
        device: the device this process trains on.
        owns_group: True when :func:`setup` created the process group (and
            :func:`teardown` should destroy it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """True on the process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True with more than one process."""
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be an integer") from None


def pick_device(preference: str, local_rank: int = 0) -> torch.device:
    """``cpu``, ``cuda`` or ``auto`` (CUDA when available) -> the device for this rank.

    Raises:
        ValueError: ``cuda`` requested but not available, or an unknown preference.
    """
    if preference not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {preference!r}")
    cuda = torch.cuda.is_available()
    if preference == "cuda" and not cuda:
        raise ValueError("train.device=cuda but torch.cuda.is_available() is False")
    if preference == "cpu" or not cuda:
        return torch.device("cpu")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def setup(device_preference: str = "auto") -> DistContext:
    """Join the ``torchrun`` job if there is one and pick this rank's device."""
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    device = pick_device(device_preference, local_rank)
    if world_size == 1:
        return DistContext(device=device)
    owns = False
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        owns = True
    return DistContext(rank, world_size, local_rank, device, owns)


def teardown(ctx: DistContext) -> None:
    """Destroy the process group if :func:`setup` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op in a single process)."""
    if ctx.distributed:
        dist.barrier()


def wrap_model(model: nn.Module, ctx: DistContext) -> nn.Module:
    """``DistributedDataParallel`` around ``model`` when there are several ranks."""
    if not ctx.distributed:
        return model
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    # Buffers (thresholds, connection indices) never change while training, and
    # re-broadcasting large index buffers every step would dominate the cost.
    # Newer torch renames the switch (and warns about the old name).
    ddp = nn.parallel.DistributedDataParallel
    params = inspect.signature(ddp.__init__).parameters
    no_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in params
               else {"broadcast_buffers": False})
    return ddp(model, device_ids=device_ids, **no_sync)


def per_rank_batch(global_batch: int, ctx: DistContext) -> int:
    """Samples per rank and step.

    Raises:
        ValueError: ``global_batch`` does not divide by the world size.
    """
    if global_batch % ctx.world_size:
        raise ValueError(
            f"train.batch_size={global_batch} (the global batch) must be divisible by the "
            f"world size {ctx.world_size}"
        )
    return global_batch // ctx.world_size


def epoch_batches(num_samples: int, global_batch: int, epoch: int, seed: int,
                  ctx: DistContext, max_steps: int | None = None) -> list[torch.Tensor]:
    """This rank's sample indices for every step of ``epoch``.

    Only full global batches are used; the tail of fewer than ``global_batch``
    samples (a different one each epoch) is skipped so every step averages the
    same number of samples on every rank.

    Raises:
        ValueError: fewer training samples than one global batch.
    """
    steps = num_samples // global_batch
    if steps == 0:
        raise ValueError(f"train.batch_size={global_batch} is larger than the "
                         f"{num_samples} training samples")
    if max_steps is not None:
        steps = min(steps, max_steps)
    sampler = DistributedSampler(range(num_samples), num_replicas=ctx.world_size,
                                 rank=ctx.rank, shuffle=True, seed=seed, drop_last=False)
    sampler.set_epoch(epoch)
    order = torch.tensor(list(iter(sampler)), dtype=torch.int64)
    b = per_rank_batch(global_batch, ctx)
    return [order[i * b:(i + 1) * b] for i in range(steps)]
