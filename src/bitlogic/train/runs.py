"""Run directories and the artifacts in them: config, checkpoints, netlist.

A run directory holds ``config.yaml`` (the resolved config),
``checkpoint.safetensors`` (latest full training state), ``best.safetensors``
(best-by-validation model), ``metrics.csv``/``metrics.json``, ``loss.png``,
``accuracy.png`` and, once training ends, ``netlist.safetensors``.

The CLI commands accept a run directory, a checkpoint file or a netlist file;
:func:`resolve_artifact` tells them apart by the safetensors header.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from torch import nn

from bitlogic.netlist import NETLIST_HEADER_KEY
from bitlogic.netlist.file_format import open_safetensors
from bitlogic.netlist.views import view_ensemble

from .checkpoint import HEADER_KEY, atomic_write, load_checkpoint
from .config import ConfigError, RunConfig
from .model import build_model
from .views import run_views

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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        detail = " ".join(str(err).split())  # one line: the CLI prints one
        raise ConfigError(f"{path} is not valid YAML ({detail})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a YAML mapping")
    return RunConfig.from_dict(data)


def latest_config(run_dir: str | os.PathLike[str]) -> RunConfig:
    """The config a run's last session trained with, to resume it.

    That is the one in ``checkpoint.safetensors`` (``config.yaml`` keeps the
    config the run started with); ``config.yaml`` when there is no checkpoint yet.

    Raises:
        FileNotFoundError: neither file exists.
        ArtifactError: the checkpoint is unreadable.
        ConfigError: the config is not valid.
    """
    from .checkpoint import read_meta

    run = Path(run_dir)
    ckpt = run / CHECKPOINT_FILE
    if ckpt.is_file():
        try:
            meta = read_meta(ckpt)
        except ValueError as err:
            raise ArtifactError(str(err)) from None
        if meta is None or not isinstance(meta.get("config"), dict):
            raise ArtifactError(f"{ckpt} is not a bitlogic training checkpoint")
        return RunConfig.from_dict(meta["config"])
    return read_config(run / CONFIG_FILE)


def export_netlist(model: nn.Module, config: RunConfig | None,
                   path: str | os.PathLike[str]) -> Any:
    """Freeze ``model`` with :func:`bitlogic.layers.to_netlist` and save it atomically.

    With ``model.flip_ensemble`` the netlist is the ensemble over the run's
    views (:func:`bitlogic.netlist.views.view_ensemble`), the model the run's
    evaluation scored. The netlist's metadata records the dataset and the
    config, so that ``bitlogic eval`` can find the data for a bare netlist file; its encoding
    carries the dataset's input scaling, so it takes raw features.

    Returns:
        The :class:`~bitlogic.netlist.LogicNetlist`.
    """
    netlist = freeze_run_model(model, config)
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


def freeze_run_model(model: nn.Module, config: RunConfig | None) -> Any:
    """``model`` as the netlist its run deploys: frozen with the dataset's input
    scaling, and over the run's views when ``config`` asks for them
    (``model.flip_ensemble``, :func:`bitlogic.netlist.views.view_ensemble`)."""
    from bitlogic.layers import to_netlist

    from .splits import input_scaling

    netlist = to_netlist(model.cpu().eval(), input_scaling=input_scaling(config, model))
    views = None if config is None else run_views(config, model)
    if views is None:
        return netlist
    return view_ensemble(netlist, [v.numpy() for v in views])


def model_from_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Sequential, RunConfig]:
    """Rebuild the model a checkpoint (full or best-model) holds, in eval mode on the CPU.

    Raises:
        FileNotFoundError: missing file.
        ValueError: not a training checkpoint, or tensors that do not fit the
            model its config describes.
    """
    ckpt = load_checkpoint(path)
    try:
        config = RunConfig.from_dict(ckpt.meta["config"])
        model = build_model(config, ckpt.meta["num_features"], ckpt.meta["num_classes"],
                            feature_shape=ckpt.meta.get("feature_shape"))
        model.load_state_dict(ckpt.model_state)
    except (KeyError, TypeError, RuntimeError, ConfigError) as err:
        detail = " ".join(str(err).split())[:300]  # one line
        raise ValueError(f"{path} does not hold the model its header describes "
                         f"({type(err).__name__}: {detail})") from None
    return model.eval(), config


def load_run(run_dir: str | os.PathLike[str], which: str = "best") -> nn.Sequential:
    """The model of a run directory, in eval mode on the CPU.

    Args:
        run_dir: a directory written by :func:`bitlogic.train.train`.
        which: ``best`` (best by validation; falls back to the latest when the
            run has no best file yet, or, with a ``RuntimeWarning``, when the
            best file is unreadable) or ``last`` (the latest checkpoint).

    Raises:
        ValueError: ``which`` is not ``best`` or ``last``, or no candidate is readable.
        FileNotFoundError: no checkpoint in ``run_dir``.
    """
    if which not in ("best", "last"):
        raise ValueError(f"which must be 'best' or 'last', got {which!r}")
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"run directory {run} does not exist")
    candidates = [BEST_FILE, CHECKPOINT_FILE] if which == "best" else [CHECKPOINT_FILE]
    present = [run / name for name in candidates if (run / name).is_file()]
    for i, path in enumerate(present):
        try:
            return model_from_checkpoint(path)[0]
        except ValueError as err:
            if i + 1 == len(present):
                raise
            warnings.warn(f"bitlogic: {err}; using {present[i + 1].name} instead",
                          RuntimeWarning, stacklevel=2)
    raise FileNotFoundError(f"{run} holds no {' or '.join(candidates)}; is it a run directory?")


class ArtifactError(ValueError):
    """A file of a run (checkpoint, netlist, config) is unreadable or inconsistent; names it."""


def _artifact_errors(method: Callable[[Artifact], Any]) -> Callable[[Artifact], Any]:
    """Re-raise the documented ``ValueError`` of a load path as :class:`ArtifactError`."""

    @functools.wraps(method)
    def wrapper(self: Artifact) -> Any:
        try:
            return method(self)
        except ArtifactError:
            raise
        except ValueError as err:
            raise ArtifactError(str(err)) from None

    return wrapper


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

    @_artifact_errors
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

    @_artifact_errors
    def model(self) -> nn.Sequential | None:
        """The trainable model (``None`` for a bare netlist)."""
        if self.kind == "run":
            return load_run(self.path)
        if self.kind == "checkpoint":
            return model_from_checkpoint(self.path)[0]
        return None

    @_artifact_errors
    def netlist(self) -> Any:
        """The :class:`~bitlogic.netlist.LogicNetlist`: loaded, or frozen from the model.

        A run whose ``netlist.safetensors`` is unreadable is frozen again from
        its checkpoint, with a ``RuntimeWarning``.
        """
        from bitlogic.netlist import LogicNetlist

        if self.kind == "netlist":
            return LogicNetlist.load(self.path)
        if self.kind == "run" and (self.path / NETLIST_FILE).is_file():
            try:
                return LogicNetlist.load(self.path / NETLIST_FILE)
            except ValueError as err:
                if not any((self.path / n).is_file() for n in (BEST_FILE, CHECKPOINT_FILE)):
                    raise
                warnings.warn(f"bitlogic: {err}; freezing the run's checkpoint instead",
                              RuntimeWarning, stacklevel=3)
        return freeze_run_model(self.model(), self.config())


def safetensors_header(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a safetensors file.
    """
    with open_safetensors(path, "safetensors file") as f:
        return dict(f.metadata() or {})


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
