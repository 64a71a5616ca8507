"""The training configuration: a typed tree of sections, built from plain dicts.

A run is described by one :class:`RunConfig`. Presets are YAML files with the
same tree (see :mod:`bitlogic.train.presets`); any leaf can be overridden with
a dotted key such as ``train.epochs=3`` or ``model.widths=[256,256]``, the
value parsed as a YAML scalar/flow collection. Unknown keys and values of the
wrong type raise :class:`ConfigError` naming the key and what is allowed.

Example:
    >>> cfg = RunConfig.from_dict({"train": {"epochs": 2}})
    >>> apply_overrides(cfg.to_dict(), ["model.widths=[64,64]"])["model"]["widths"]
    [64, 64]
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

import yaml

from .families import ENCODERS, LR_SCHEDULES, OPTIMIZERS
from .typed import ConfigError, build_dataclass, leaf_keys

DEVICES = ("auto", "cpu", "cuda")


@dataclass
class DatasetConfig:
    """Which data to train on: a registered dataset, or a CSV / ``.npz`` file.

    Attributes:
        name: a name from :func:`bitlogic.data.list_datasets`; for a ``path``
            dataset, a label only (the file's stem).
        path: a ``.csv`` or ``.npz`` table to train on instead of ``name``
            (see :mod:`bitlogic.data.table_source`); ``null``: use ``name``.
        target: ``path`` only: the label column (CSV; ``null``: the last one)
            or label array (``.npz``; ``null``: ``y``).
        val_fraction: share of the training split held out (stratified) for
            validation and model selection, in ``[0, 1)``; the test split is
            never used for selection.
        train_limit: keep only this many training samples (after the
            validation split, taken in a seeded order); ``null`` keeps all.
        sha256: ``path`` only, recorded by training: the file's digest.
        class_names: ``path`` only, recorded: the labels in class order.
        feature_names: ``path`` only, recorded: the CSV feature columns.
        feature_min: ``path`` only, recorded: per-feature minimum of the train
            rows (the min-max scaling to ``[0, 1]``).
        feature_max: ``path`` only, recorded: per-feature maximum of the train rows.
    """

    name: str = "digits"
    path: str | None = None
    target: str | None = None
    val_fraction: float = 0.1
    train_limit: int | None = None
    sha256: str | None = None
    class_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    feature_min: list[float] = field(default_factory=list)
    feature_max: list[float] = field(default_factory=list)


@dataclass
class EncoderConfig:
    """Input encoding of the real-valued features into bits.

    Attributes:
        kind: a name in :data:`~bitlogic.train.families.ENCODERS`:
            ``thermometer`` (uniform thresholds in ``[low, high]``),
            ``distributive`` (quantiles fitted on the training part) or
            ``none`` (inputs are already bits).
        thresholds: bits per feature.
        low: lowest value of the uniform thermometer range.
        high: highest value of the uniform thermometer range.
        per_feature: ``distributive`` only: quantiles per feature or global.
    """

    kind: str = "thermometer"
    thresholds: int = 3
    low: float = 0.0
    high: float = 1.0
    per_feature: bool = True


@dataclass
class ModelConfig:
    """The stack of ``LogicDense`` layers and the GroupSum head.

    Attributes:
        widths: neurons per layer; the last must divide by the number of classes.
        parametrization: a name from ``list_parametrizations()``.
        lut_rank: inputs per LUT (2, 4 or 6).
        connections: ``fixed``/``random``/``learnable`` (names in
            ``bitlogic.connections.factory.CONNECTIONS``), or one of them per layer.
        init_method: connection init (``random-unique``, ``random``, ``group-biased``).
        tau: GroupSum temperature.
        options: extra ``LogicDense`` keyword arguments (``forward_sampling``,
            ``weight_init``, ``num_candidates``, ...), passed to every layer.
        conv: convolutional blocks before the dense layers (image datasets
            only; empty: a dense model). Each block is a mapping with
            ``channels`` (required) and optional ``kernel_size`` (3),
            ``stride`` (1), ``padding`` (1), ``tree_depth`` (2), ``lut_rank``
            and ``parametrization`` (default: the model's), ``connections``
            (``fixed``) and ``pool`` (OR-pool window and stride; 0 or 1: none,
            default 2); other keys go to ``LogicConv2d`` (``weight_init``,
            ...). See :func:`bitlogic.train.model.conv_blocks`.
        flip_ensemble: evaluate and export the net on each image and on its
            left-right mirror image, adding their GroupSum counts (conv
            models only). The netlist holds both copies, twice the LUTs, side
            by side; training is unchanged. See
            :func:`bitlogic.netlist.views.view_ensemble`.
    """

    widths: list[int] = field(default_factory=lambda: [500, 500])
    parametrization: str = "light"
    lut_rank: int = 4
    connections: str | list[str] = "fixed"
    init_method: str = "random-unique"
    tau: float = 10.0
    options: dict[str, Any] = field(default_factory=dict)
    conv: list[dict[str, Any]] = field(default_factory=list)
    flip_ensemble: bool = False


@dataclass
class OptimizerConfig:
    """Optimizer settings.

    Attributes:
        kind: a name in :data:`~bitlogic.train.families.OPTIMIZERS`:
            ``adamw`` (default), ``adam`` or ``sgd``.
        lr: learning rate.
        weight_decay: decoupled (AdamW) or L2 (Adam, SGD) weight decay.
        betas: Adam(W) betas.
        momentum: SGD momentum.
    """

    kind: str = "adamw"
    lr: float = 0.05
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    momentum: float = 0.9


@dataclass
class LRScheduleConfig:
    """Learning-rate schedule, applied per epoch.

    Attributes:
        kind: a name in :data:`~bitlogic.train.families.LR_SCHEDULES`:
            ``constant``, ``step`` (multiply by ``gamma`` every
            ``step_epochs``) or ``cosine`` (down to ``min_lr`` over the run).
        step_epochs: period of the ``step`` schedule.
        gamma: factor of the ``step`` schedule.
        min_lr: final learning rate of the ``cosine`` schedule.
    """

    kind: str = "constant"
    step_epochs: int = 10
    gamma: float = 0.1
    min_lr: float = 0.0


@dataclass
class TemperatureConfig:
    """Parametrization/connection temperature, set before every step.

    Attributes:
        kind: a name in :data:`bitlogic.schedules.TEMPERATURE_SCHEDULES`:
            ``constant``, ``linear``, ``cosine`` or ``exponential``.
        start: temperature at step 0.
        end: temperature from ``steps`` on.
        steps: schedule length in optimizer steps; ``null`` spans the whole run
            (so changing ``train.epochs`` changes the schedule).
        target: ``parametrizations``, ``connections`` or ``all``.
    """

    kind: str = "constant"
    start: float = 1.0
    end: float = 1.0
    steps: int | None = None
    target: str = "parametrizations"


@dataclass
class LoopConfig:
    """The training loop.

    Attributes:
        epochs: passes over the training part.
        batch_size: GLOBAL batch size, held constant under ``torchrun``: each of
            ``world_size`` processes takes ``batch_size / world_size`` samples per
            step, so results do not depend on the number of processes.
        seed: seeds initialization, shuffling and every random op.
        patience: stop after this many epochs without a validation improvement;
            ``null`` or 0 never stops early.
        min_delta: smallest increase of validation discrete accuracy that counts
            as an improvement.
        eval_batch_size: batch size of evaluation passes.
        max_steps_per_epoch: cap on optimizer steps per epoch (smoke tests).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        num_threads: torch intra-op threads; ``null`` keeps torch's default.
        shift_pixels: translate each training image by a random offset of up to
            this many pixels per axis, zero-filled (image datasets only; 0: off).
        flip: mirror each training image left-right with probability 1/2
            (image datasets only).
        cutout: zero a square of this side, in pixels, at a random place in
            each training image (image datasets only; 0: off).
        harden_epochs: one entry per logic layer (conv and dense, in model
            order): the 1-based epoch from which that layer computes its
            discrete table in training too and stops training (hardened), or
            ``null`` for never; empty: off (see :mod:`bitlogic.train.harden`).
        harden_ramp_epochs: over this many epochs before a layer hardens, its
            temperature falls geometrically to ``harden_ramp_factor`` times
            the schedule's (see :mod:`bitlogic.train.harden`); 0: off.
        harden_ramp_factor: the temperature factor a layer reaches when it
            hardens, in ``(0, 1]``.
        packed_front: run the leading layers that hardening has frozen as a
            netlist on the packed engine (the same bits, several times faster;
            see :mod:`bitlogic.train.packed_front`); false: the float forward.
    """

    epochs: int = 12
    batch_size: int = 64
    seed: int = 0
    patience: int | None = None
    min_delta: float = 0.0
    eval_batch_size: int = 2048
    max_steps_per_epoch: int | None = None
    device: str = "auto"
    num_threads: int | None = None
    shift_pixels: int = 0
    flip: bool = False
    cutout: int = 0
    harden_epochs: list[int | None] = field(default_factory=list)
    harden_ramp_epochs: int = 0
    harden_ramp_factor: float = 0.1
    packed_front: bool = True


@dataclass
class RunConfig:
    """Everything that defines a training run (a preset, after overrides)."""

    name: str = "custom"
    description: str = ""
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    lr_schedule: LRScheduleConfig = field(default_factory=LRScheduleConfig)
    temperature: TemperatureConfig = field(default_factory=TemperatureConfig)
    train: LoopConfig = field(default_factory=LoopConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build and validate a config; missing keys take their defaults.

        Raises:
            ConfigError: an unknown key, a value of the wrong type or out of range.
        """
        config = build_dataclass(cls, data)
        validate(config)
        return config

    def to_dict(self) -> dict[str, Any]:
        """A deep plain-dict copy (YAML/JSON serializable)."""
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        """The config as YAML text, sections in declaration order."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def valid_keys() -> list[str]:
    """Every dotted key a config accepts, e.g. ``train.epochs`` (``model.options.*`` is free)."""
    return leaf_keys(RunConfig)


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key=value`` and parse the value as YAML (``3``, ``0.1``, ``[1,2]``, ``null``).

    Raises:
        ConfigError: no ``=`` or an empty key.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set expects key=value (e.g. train.epochs=3), got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {key}: cannot parse value {raw!r} as YAML ({err})") from None
    return key, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with every ``key=value`` override set.

    Raises:
        ConfigError: an unknown dotted key (the message lists the valid ones).
    """
    data = copy.deepcopy(data)
    allowed = valid_keys()
    for text in overrides:
        key, value = parse_override(text)
        parts = key.split(".")
        free = any(k.endswith(".*") and key.startswith(k[:-1]) for k in allowed)
        if key not in allowed and not free:
            raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(allowed)}")
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return data


def validate(config: RunConfig) -> None:
    """Range and choice checks that the types alone do not express.

    Raises:
        ConfigError: naming the first offending key and what is allowed.
    """
    # Choices come from the registries, so a registered entry is valid at once.
    from bitlogic.connections.factory import CONNECTIONS
    from bitlogic.data.registry import DATASETS
    from bitlogic.parametrizations import VALID_RANKS
    from bitlogic.parametrizations.registry import PARAMETRIZATIONS
    from bitlogic.schedules import TARGETS, TEMPERATURE_SCHEDULES

    c = config
    if c.dataset.path is None:
        _choice("dataset.name", c.dataset.name, DATASETS.names())
    elif not c.dataset.path.lower().endswith((".csv", ".npz")):
        raise ConfigError(f"dataset.path must be a .csv or .npz file, got {c.dataset.path!r}")
    _choice("encoder.kind", c.encoder.kind, ENCODERS.names())
    _choice("optimizer.kind", c.optimizer.kind, OPTIMIZERS.names())
    _choice("lr_schedule.kind", c.lr_schedule.kind, LR_SCHEDULES.names())
    _choice("train.device", c.train.device, DEVICES)
    _choice("model.parametrization", c.model.parametrization, PARAMETRIZATIONS.names())
    _choice("model.lut_rank", c.model.lut_rank, tuple(VALID_RANKS))
    _choice("temperature.kind", c.temperature.kind, TEMPERATURE_SCHEDULES.names())
    _choice("temperature.target", c.temperature.target, TARGETS)
    conns = c.model.connections
    for kind in [conns] if isinstance(conns, str) else conns:
        _choice("model.connections", kind, CONNECTIONS.names(aliases=True))
    if not c.model.widths or any(w < 1 for w in c.model.widths):
        raise ConfigError(f"model.widths must be a non-empty list of positive ints, "
                          f"got {c.model.widths}")
    if isinstance(conns, list) and len(conns) != len(c.model.widths):
        raise ConfigError(f"model.connections lists {len(conns)} kinds for "
                          f"{len(c.model.widths)} layers; give one per layer or a single kind")
    if not 0.0 <= c.dataset.val_fraction < 1.0:
        raise ConfigError(f"dataset.val_fraction must lie in [0, 1), got {c.dataset.val_fraction}")
    if c.encoder.kind == "thermometer" and not c.encoder.low < c.encoder.high:
        raise ConfigError(f"encoder.low must be < encoder.high, got {c.encoder.low}, "
                          f"{c.encoder.high}")
    if c.model.flip_ensemble and not c.model.conv:
        raise ConfigError("model.flip_ensemble mirrors images for a conv model; set model.conv "
                          "or model.flip_ensemble=false")
    if len(c.optimizer.betas) != 2:
        raise ConfigError(f"optimizer.betas must have two values, got {c.optimizer.betas}")
    positive = {
        "encoder.thresholds": c.encoder.thresholds,
        "model.tau": c.model.tau,
        "optimizer.lr": c.optimizer.lr,
        "lr_schedule.step_epochs": c.lr_schedule.step_epochs,
        "temperature.start": c.temperature.start,
        "temperature.end": c.temperature.end,
        "temperature.steps": c.temperature.steps,
        "train.epochs": c.train.epochs,
        "train.batch_size": c.train.batch_size,
        "train.eval_batch_size": c.train.eval_batch_size,
        "train.max_steps_per_epoch": c.train.max_steps_per_epoch,
        "train.num_threads": c.train.num_threads,
        "dataset.train_limit": c.dataset.train_limit,
    }
    for key, value in positive.items():
        if value is not None and not value > 0:
            raise ConfigError(f"{key} must be > 0, got {value}")
    non_negative = {
        "optimizer.weight_decay": c.optimizer.weight_decay,
        "train.seed": c.train.seed,
        "train.patience": c.train.patience,
        "train.min_delta": c.train.min_delta,
        "train.shift_pixels": c.train.shift_pixels,
        "train.cutout": c.train.cutout,
        "train.harden_ramp_epochs": c.train.harden_ramp_epochs,
        "lr_schedule.min_lr": c.lr_schedule.min_lr,
    }
    for key, value in non_negative.items():
        if value is not None and value < 0:
            raise ConfigError(f"{key} must be >= 0, got {value}")
    if not 0.0 < c.train.harden_ramp_factor <= 1.0:
        raise ConfigError(f"train.harden_ramp_factor must lie in (0, 1], got "
                          f"{c.train.harden_ramp_factor}")
    if c.train.harden_ramp_epochs and not c.train.harden_epochs:
        raise ConfigError(f"train.harden_ramp_epochs={c.train.harden_ramp_epochs} ramps the "
                          f"temperature towards hardening, but train.harden_epochs is empty; "
                          f"set train.harden_epochs or harden_ramp_epochs=0")
    image_keys = (c.train.shift_pixels, c.train.flip, c.train.cutout, c.model.conv)
    if c.dataset.path is None and any(image_keys):
        # a file's sample shape is known once it is read (the trainer checks it then)
        check_image_keys(c, tuple(DATASETS.get(c.dataset.name).feature_shape))


def check_image_keys(c: RunConfig, shape: tuple[int, ...]) -> None:
    """``ConfigError`` for image-only keys on samples of ``shape`` that are not
    ``(C, H, W)`` images, or for a cutout as wide as the image."""
    image_keys = {"train.shift_pixels": c.train.shift_pixels, "train.flip": c.train.flip,
                  "train.cutout": c.train.cutout, "model.conv": c.model.conv}
    for key, value in image_keys.items():
        if value and len(shape) != 3:
            raise ConfigError(f"{key} needs an image dataset; {c.dataset.name!r} "
                              f"samples have shape {shape}")
    if c.train.cutout and c.train.cutout >= min(shape[1:]):
        raise ConfigError(f"train.cutout must be smaller than the image side "
                          f"({min(shape[1:])} pixels for shape {shape}), got {c.train.cutout}")


def _choice(key: str, value: object, allowed: tuple | list) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {list(allowed)}, got {value!r}")
