"""Thermometer encoders: real features -> bits.

Bit order (the same in the netlist and every backend): for ``F`` features
and ``T`` thresholds the output has ``F * T`` bits and bit ``f * T + t`` is
``x[f] > thresholds[f, t]`` (feature-major, thresholds ascending, strict
``>`` compared in float32). A thermometer code of value ``v`` is therefore
``1...10...0`` within each feature's block.
"""

from __future__ import annotations

import torch
from torch import nn


def thermometer_encode(x: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """``(batch, F)`` and ``(F, T)`` or ``(T,)`` -> ``(batch, F * T)`` in ``{0, 1}``."""
    bits = x.to(torch.float32).unsqueeze(-1) > thresholds.to(torch.float32)
    return bits.flatten(1).to(x.dtype if x.is_floating_point() else torch.float32)


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"x must be (batch, features), got shape {tuple(x.shape)}")
        if self.thresholds.dim() == 2 and x.shape[1] != self.thresholds.shape[0]:
            raise ValueError(
                f"x has {x.shape[1]} features, encoder was fitted on {self.thresholds.shape[0]}"
            )
        return thermometer_encode(x, self.thresholds)


class Thermometer(_ThermometerBase):
    """Uniform thresholds ``low + (high - low) * (t + 1) / (T + 1)``, shared by all features.

    Args:
        num_thresholds: bits per feature ``T >= 1``.
        low: lower end of the range the thresholds split evenly.
        high: upper end (``low < high``).

    Shapes: ``(batch, F)`` -> ``(batch, F * T)``.
    """

    def __init__(self, num_thresholds: int, low: float = 0.0, high: float = 1.0):
        super().__init__()
        if not isinstance(num_thresholds, int) or num_thresholds < 1:
            raise ValueError(f"num_thresholds must be a positive integer, got {num_thresholds!r}")
        if not low < high:
            raise ValueError(f"need low < high, got low={low}, high={high}")
        self.num_thresholds = num_thresholds
        steps = torch.arange(1, num_thresholds + 1, dtype=torch.float64) / (num_thresholds + 1)
        self.register_buffer("thresholds", (low + (high - low) * steps).to(torch.float32))

    def extra_repr(self) -> str:
        return f"num_thresholds={self.num_thresholds}"


class DistributiveThermometer(_ThermometerBase):
    """Quantile thresholds fitted on data, per feature or global.

    Threshold ``t`` is the ``(t + 1) / (T + 1)`` quantile of the training
    values, so each bit is on for roughly the same fraction of samples.
    Call :meth:`fit` before use.

    Args:
        num_thresholds: bits per feature ``T >= 1``.
        per_feature: one set of quantiles per feature (default) or one global set.

    Shapes: ``(batch, F)`` -> ``(batch, F * T)``.
    """

    def __init__(self, num_thresholds: int, per_feature: bool = True):
        super().__init__()
        if not isinstance(num_thresholds, int) or num_thresholds < 1:
            raise ValueError(f"num_thresholds must be a positive integer, got {num_thresholds!r}")
        self.num_thresholds = num_thresholds
        self.per_feature = bool(per_feature)
        self.register_buffer("thresholds", torch.empty(0, num_thresholds))

    @property
    def fitted(self) -> bool:
        return self.thresholds.numel() > 0

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> DistributiveThermometer:
        """Fit thresholds on ``x`` ``(n, F)``; returns ``self``."""
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.dim() != 2 or x.shape[0] < 1:
            raise ValueError(f"x must be a non-empty (n, features) array, got {tuple(x.shape)}")
        q = torch.arange(1, self.num_thresholds + 1, dtype=torch.float64) / (
            self.num_thresholds + 1)
        if self.per_feature:
            t = torch.quantile(x, q, dim=0).T  # (F, T)
        else:
            t = torch.quantile(x.flatten(), q)  # (T,)
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
