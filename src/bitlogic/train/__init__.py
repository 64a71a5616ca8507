"""Train end to end: presets as data, the training loop, checkpoints and run directories.

Typical use::

    from bitlogic.train import load_preset, train, load_run

    config = load_preset("digits-tiny", ["train.epochs=3"])
    result = train(config, "runs/digits")      # writes the run directory
    model = load_run("runs/digits")            # best-by-validation model, eval mode

The same loop runs data-parallel under ``torchrun`` (see
:mod:`bitlogic.train.distributed`); the command line is ``bitlogic train``.
"""

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .config import ConfigError, RunConfig, apply_overrides, valid_keys
from .evaluate import EvalResult, evaluate, evaluate_packed
from .loop import TrainResult, train
from .model import build_model, count_parameters
from .presets import DEFAULT_PRESET, list_presets, load_preset, preset_dict
from .rundir import RunDirError
from .runs import (
    Artifact,
    ArtifactError,
    export_netlist,
    latest_config,
    load_run,
    read_config,
    resolve_artifact,
)

__all__ = [
    # configuration and presets
    "ConfigError",
    "RunConfig",
    "DEFAULT_PRESET",
    "apply_overrides",
    "list_presets",
    "load_preset",
    "preset_dict",
    "valid_keys",
    # training
    "TrainResult",
    "build_model",
    "count_parameters",
    "train",
    # evaluation
    "EvalResult",
    "evaluate",
    "evaluate_packed",
    # runs and checkpoints
    "Artifact",
    "Checkpoint",
    "export_netlist",
    "load_checkpoint",
    "load_run",
    "read_config",
    "resolve_artifact",
    "latest_config",
    "ArtifactError",
    "RunDirError",
    "save_checkpoint",
]
