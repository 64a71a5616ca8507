"""Thermometer encoders: real features -> bits.

Bit order (the same in the netlist and every backend): for ``F`` features
and ``T`` thresholds the output has ``F * T`` bits and bit ``f * T + t`` is
``x[f] > thresholds[f, t]`` (feature-major, thresholds ascending, strict
``>`` compared in float32). A thermometer code of value ``v`` is therefore
``1...10...0`` within each feature's block.

Images ``(batch, C, H, W)`` keep their layout: the output is
``(batch, C * T, H, W)`` and output channel ``c * T + t`` is
``x[:, c] > thresholds[c, t]`` (per-channel thresholds, or one shared set).
Flattened C-major (``torch.flatten(x, 1)``), feature ``c * H * W + h * W + w``
then owns bits ``feature * T + t`` of the netlist's encoding, whose thresholds
matrix repeats channel ``c``'s row for each of its ``H * W`` features
(:meth:`~_ThermometerBase.feature_thresholds`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .checks import check_finite, check_size

#: Most thresholds per feature: 8 bits of resolution is already beyond what the
#: papers use (2-31); a larger count is a typo, refused before allocating.
MAX_THRESHOLDS = 4096


def thermometer_encode(x: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """``(batch, F)`` and ``(F, T)`` or ``(T,)`` -> ``(batch, F * T)`` in ``{0, 1}``.

    Images: ``(batch, C, H, W)`` and ``(C, T)`` or ``(T,)`` -> ``(batch, C * T, H, W)``,
    output channel ``c * T + t`` being ``x[:, c] > thresholds[c, t]``.
    """
    dtype = x.dtype if x.is_floating_point() else torch.float32
    thresholds = thresholds.to(torch.float32)
    if x.dim() == 4:
        per_channel = thresholds.view(-1, thresholds.shape[-1], 1, 1)  # (C or 1, T, 1, 1)
        bits = x.to(torch.float32).unsqueeze(2) > per_channel  # (batch, C, T, H, W)
        return bits.flatten(1, 2).to(dtype)
    bits = x.to(torch.float32).unsqueeze(-1) > thresholds
    return bits.flatten(1).to(dtype)


def _check_thresholds(num_thresholds: object) -> int:
    try:
        return check_size("num_thresholds", num_thresholds, MAX_THRESHOLDS)
    except TypeError as err:  # kept a ValueError, as before
        raise ValueError(str(err)) from None


def _quantiles(values: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Linear-interpolation quantiles of a 1-D tensor in float64 (no size limit)."""
    v = values.detach().cpu().to(torch.float64).numpy()
    return torch.from_numpy(np.quantile(v, q.numpy(), method="linear"))


class _ThermometerBase(nn.Module):
    num_thresholds: int

    def thresholds_matrix(self, num_features: int) -> torch.Tensor:
        """float32 ``(num_features, num_thresholds)`` thresholds for export."""
        t = self.thresholds
        if t.dim() == 1:
            return t.expand(num_features, -1).contiguous()
        if t.shape[0] != num_features:
            raise ValueError(f"encoder was fitted for {t.shape[0]} features, not {num_features}")
        return t.contiguous()

    def feature_thresholds(self, input_shape: tuple[int, ...]) -> torch.Tensor:
        """float32 ``(num_features, num_thresholds)`` for inputs of one sample's shape.

        Args:
            input_shape: ``(F,)`` for tables or ``(C, H, W)`` for images; feature
                ``c * H * W + h * W + w`` gets channel ``c``'s thresholds.

        Raises:
            ValueError: another shape, or a channel count the encoder was not fitted on.
        """
        shape = tuple(int(s) for s in input_shape)
        if len(shape) == 1:
            return self.thresholds_matrix(shape[0])
        if len(shape) != 3:
            raise ValueError(f"input_shape must be (features,) or (C, H, W), got {shape}")
        channels, height, width = shape
        rows = self.thresholds_matrix(channels)
        return rows.repeat_interleave(height * width, dim=0).contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 4):
            raise ValueError(f"x must be (batch, features) or (batch, C, H, W), "
                             f"got shape {tuple(x.shape)}")
        if self.thresholds.dim() == 2 and x.shape[1] != self.thresholds.shape[0]:
            what = "features" if x.dim() == 2 else "channels"
            raise ValueError(
                f"x has {x.shape[1]} {what}, encoder was fitted on {self.thresholds.shape[0]}"
            )
        return thermometer_encode(x, self.thresholds)


class Thermometer(_ThermometerBase):
    """Uniform thresholds ``low + (high - low) * (t + 1) / (T + 1)``, shared by all features.

    Args:
        num_thresholds: bits per feature, an int in ``[1, 4096]``.
        low: lower end of the range the thresholds split evenly (finite).
        high: upper end (finite, ``low < high``).

    Shapes: ``(batch, F)`` -> ``(batch, F * T)``; images ``(batch, C, H, W)`` ->
    ``(batch, C * T, H, W)`` (channel ``c * T + t`` is ``x[:, c] > thresholds[t]``).
    """

    def __init__(self, num_thresholds: int, low: float = 0.0, high: float = 1.0):
        super().__init__()
        num_thresholds = _check_thresholds(num_thresholds)
        low, high = check_finite("low", low), check_finite("high", high)
        if not low < high:
            raise ValueError(f"need low < high, got low={low}, high={high}")
        self.num_thresholds = num_thresholds
        steps = torch.arange(1, num_thresholds + 1, dtype=torch.float64) / (num_thresholds + 1)
        thresholds = (low + (high - low) * steps).to(torch.float32)
        if not bool(torch.isfinite(thresholds).all()):
            raise ValueError(f"low={low}, high={high}: the thresholds must be finite in "
                             f"float32 (|values| < 3.4e38)")
        self.register_buffer("thresholds", thresholds)

    def extra_repr(self) -> str:
        return f"num_thresholds={self.num_thresholds}"


class DistributiveThermometer(_ThermometerBase):
    """Quantile thresholds fitted on data, per feature or global.

    Threshold ``t`` is the ``(t + 1) / (T + 1)`` quantile of the training
    values, so each bit is on for roughly the same fraction of samples.
    Call :meth:`fit` before use. Fitted on images ``(n, C, H, W)``, "per feature"
    means per channel (over all samples and pixels of that channel).

    Args:
        num_thresholds: bits per feature, an int in ``[1, 4096]``.
        per_feature: one set of quantiles per feature / channel (default) or one
            global set.

    Shapes: ``(batch, F)`` -> ``(batch, F * T)``; images ``(batch, C, H, W)`` ->
    ``(batch, C * T, H, W)`` (channel ``c * T + t`` is ``x[:, c] > thresholds[c, t]``).
    """

    def __init__(self, num_thresholds: int, per_feature: bool = True):
        super().__init__()
        num_thresholds = _check_thresholds(num_thresholds)
        self.num_thresholds = num_thresholds
        self.per_feature = bool(per_feature)
        self.register_buffer("thresholds", torch.empty(0, num_thresholds))

    @property
    def fitted(self) -> bool:
        return self.thresholds.numel() > 0

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> DistributiveThermometer:
        """Fit thresholds on ``x`` ``(n, F)`` or images ``(n, C, H, W)``; returns ``self``.

        Images give ``(C, T)`` thresholds per channel (``(T,)`` when not ``per_feature``).

        Raises:
            ValueError: another shape, no samples, or a NaN or infinite value (one
                NaN would make every quantile NaN and every bit 0).
        """
        x = torch.as_tensor(x)
        if x.dim() not in (2, 4) or x.shape[0] < 1:
            raise ValueError(f"x must be a non-empty (n, features) or (n, C, H, W) array, "
                             f"got {tuple(x.shape)}")
        if x.is_complex():
            raise ValueError(f"x must be real-valued, got dtype {x.dtype}")
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            pos = [int(i) for i in (~torch.isfinite(x)).nonzero()[0]]
            raise ValueError(f"x must be finite to fit thresholds; got {x[tuple(pos)].item()} "
                             f"at {pos}")
        q = torch.arange(1, self.num_thresholds + 1, dtype=torch.float64) / (
            self.num_thresholds + 1)
        if x.dim() == 4:  # per channel, one channel in float64 at a time
            groups = range(x.shape[1]) if self.per_feature else [slice(None)]
            t = torch.stack([_quantiles(x[:, g].reshape(-1), q) for g in groups])  # (C | 1, T)
            t = t if self.per_feature else t[0]
        elif self.per_feature:
            t = torch.quantile(x.to(torch.float64), q, dim=0).T  # (F, T)
        else:
            t = torch.quantile(x.to(torch.float64).flatten(), q)  # (T,)
        self.thresholds = t.to(torch.float32).contiguous()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.fitted:
            raise RuntimeError("DistributiveThermometer is not fitted; call .fit(train_x) first")
        return super().forward(x)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "thresholds"
        if key in state_dict:  # the fitted shape is only known from the checkpoint
            self.thresholds = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"num_thresholds={self.num_thresholds}, per_feature={self.per_feature}"
