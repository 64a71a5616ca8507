"""Run directories and the artifacts in them: config, checkpoints, netlist.

A run directory holds ``config.yaml`` (the resolved config),
``checkpoint.safetensors`` (latest full training state), ``best.safetensors``
(best-by-validation model), ``metrics.csv``/``metrics.json``, ``loss.png``,
``accuracy.png`` and, once training ends, ``netlist.safetensors``.

The CLI commands accept a run directory, a checkpoint file or a netlist file;
:func:`resolve_artifact` tells them apart by the safetensors header.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from torch import nn

from bitlogic.netlist import NETLIST_HEADER_KEY

from .checkpoint import HEADER_KEY, atomic_write, load_checkpoint
from .config import ConfigError, RunConfig
from .model import build_model

CONFIG_FILE = "config.yaml"
CHECKPOINT_FILE = "checkpoint.safetensors"
BEST_FILE = "best.safetensors"
NETLIST_FILE = "netlist.safetensors"


def write_config(config: RunConfig, path: str | os.PathLike[str]) -> Path:
    """Write the resolved config as YAML (atomically)."""
    return atomic_write(path, config.to_yaml().encode())


def read_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read a ``config.yaml`` written by :func:`write_config` (or any preset file).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ConfigError: it is not a valid config.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a YAML mapping")
    return RunConfig.from_dict(data)


def export_netlist(model: nn.Module, config: RunConfig | None,
                   path: str | os.PathLike[str]) -> Any:
    """Freeze ``model`` with :func:`bitlogic.layers.to_netlist` and save it atomically.

    The netlist's metadata records the dataset and the config, so that
    ``bitlogic eval`` can find the data for a bare netlist file.

    Returns:
        The :class:`~bitlogic.netlist.LogicNetlist`.
    """
    from bitlogic.layers import to_netlist

    netlist = to_netlist(model.cpu().eval())
    if config is not None:
        netlist.metadata.update(dataset=config.dataset.name, preset=config.name,
                                train_config=json.dumps(config.to_dict()))
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    netlist.save(tmp)
    # safetensors creates files owner-only; a deliverable gets the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)
    return netlist


def model_from_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Sequential, RunConfig]:
    """Rebuild the model a checkpoint (full or best-model) holds, in eval mode on the CPU.

    Raises:
        FileNotFoundError: missing file.
        ValueError: not a training checkpoint.
    """
    ckpt = load_checkpoint(path)
    config = RunConfig.from_dict(ckpt.meta["config"])
    model = build_model(config, ckpt.meta["num_features"], ckpt.meta["num_classes"])
    model.load_state_dict(ckpt.model_state)
    return model.eval(), config


def load_run(run_dir: str | os.PathLike[str], which: str = "best") -> nn.Sequential:
    """The model of a run directory, in eval mode on the CPU.

    Args:
        run_dir: a directory written by :func:`bitlogic.train.train`.
        which: ``best`` (best by validation; falls back to the latest when the
            run has no best file yet) or ``last`` (the latest checkpoint).

    Raises:
        ValueError: ``which`` is not ``best`` or ``last``.
        FileNotFoundError: no checkpoint in ``run_dir``.
    """
    if which not in ("best", "last"):
        raise ValueError(f"which must be 'best' or 'last', got {which!r}")
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"run directory {run} does not exist")
    candidates = [BEST_FILE, CHECKPOINT_FILE] if which == "best" else [CHECKPOINT_FILE]
    for name in candidates:
        if (run / name).is_file():
            return model_from_checkpoint(run / name)[0]
    raise FileNotFoundError(f"{run} holds no {' or '.join(candidates)}; is it a run directory?")


@dataclass(frozen=True)
class Artifact:
    """What a path given on the command line points at.

    Attributes:
        kind: ``run`` (a run directory), ``checkpoint`` or ``netlist`` (files).
        path: the path as given.
        run_dir: the run directory the artifact belongs to, when known.
    """

    kind: str
    path: Path
    run_dir: Path | None

    def config(self) -> RunConfig | None:
        """The run config: from the run directory, the checkpoint or the netlist metadata."""
        if self.kind == "checkpoint":
            return model_from_checkpoint(self.path)[1]
        if self.run_dir is not None and (self.run_dir / CONFIG_FILE).is_file():
            return read_config(self.run_dir / CONFIG_FILE)
        if self.kind == "netlist":
            raw = self.netlist().metadata.get("train_config")
            return RunConfig.from_dict(json.loads(raw)) if raw else None
        return None

    def model(self) -> nn.Sequential | None:
        """The trainable model (``None`` for a bare netlist)."""
        if self.kind == "run":
            return load_run(self.path)
        if self.kind == "checkpoint":
            return model_from_checkpoint(self.path)[0]
        return None

    def netlist(self) -> Any:
        """The :class:`~bitlogic.netlist.LogicNetlist`: loaded, or frozen from the model."""
        from bitlogic.netlist import LogicNetlist

        if self.kind == "netlist":
            return LogicNetlist.load(self.path)
        if self.kind == "run" and (self.path / NETLIST_FILE).is_file():
            return LogicNetlist.load(self.path / NETLIST_FILE)
        from bitlogic.layers import to_netlist

        return to_netlist(self.model())


def safetensors_header(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file.

    Raises:
        ValueError: ``path`` is not a safetensors file.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as err:  # safetensors raises its own error types for bad files
        raise ValueError(f"{path} is not a safetensors file ({err})") from None


def resolve_artifact(path: str | os.PathLike[str]) -> Artifact:
    """Classify ``path`` as a run directory, a training checkpoint or a netlist.

    Raises:
        FileNotFoundError: ``path`` does not exist, or is a directory without a run.
        ValueError: a file that is neither a checkpoint nor a netlist.
    """
    p = Path(path)
    if p.is_dir():
        if not any((p / name).is_file() for name in (BEST_FILE, CHECKPOINT_FILE, NETLIST_FILE)):
            raise FileNotFoundError(
                f"{p} is not a run directory (no {BEST_FILE}, {CHECKPOINT_FILE} or {NETLIST_FILE})"
            )
        return Artifact("run", p, p)
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    header = safetensors_header(p)
    run_dir = p.parent if (p.parent / CONFIG_FILE).is_file() else None
    if HEADER_KEY in header:
        return Artifact("checkpoint", p, run_dir)
    if NETLIST_HEADER_KEY in header:
        return Artifact("netlist", p, run_dir)
    raise ValueError(f"{p} is neither a bitlogic training checkpoint nor a netlist")
