"""The hardened front of a model, run on the bit-packed engine during training.

Once progressive hardening (:mod:`bitlogic.train.harden`) has frozen a
model's first logic layers, those layers output the netlist's bits in either
mode and nothing in them trains, yet the float forward recomputes them every
step: in cifar10-m's last 20 epochs, 99 ms of a 103 ms step. This module
freezes that front (encoder, hardened logic layers and the pools between
them) into a netlist once per hardening stage and evaluates it on the packed
engine, 64 samples per machine word; the layers after it run as before on
its output. The bits are the same, so training is unchanged (tested
epoch by epoch), only faster.
"""

from __future__ import annotations

import torch
from torch import nn

from bitlogic.layers.encoders import DistributiveThermometer, Thermometer
from bitlogic.layers.freeze import to_bit_netlist
from bitlogic.layers.pool import OrPool2d

from .harden import is_hardened, logic_layers

# What a frozen front may contain besides hardened logic layers.
_FIXED = (Thermometer, DistributiveThermometer, nn.Unflatten, nn.Flatten, nn.Identity, OrPool2d)


def hardened_front_length(model: nn.Sequential) -> int:
    """How many leading modules of ``model`` form a frozen front (0: none).

    The front is the longest run of leading modules that are hardened logic
    layers, input encoders, reshapes or pools (none with a trainable
    parameter). It contains at least one logic layer and never the last module.
    """
    logic = {id(layer) for layer in logic_layers(model)}
    length, last_logic = 0, -1
    for i, module in enumerate(list(model)[:-1]):
        if id(module) in logic:
            if not is_hardened(module):
                break
            last_logic = i
        elif not isinstance(module, _FIXED) or any(p.requires_grad for p in module.parameters()):
            break
        length = i + 1
    return length if last_logic >= 0 else 0


class PackedFront:
    """``model[:length]`` as a netlist on :class:`~bitlogic.backends.PackedLogicNet`.

    Calling it on float features ``(batch, F)`` (what ``model`` takes) returns
    float32 ``(batch, *shape)`` of 0/1 values, equal to ``model[:length](x)``.
    """

    def __init__(self, model: nn.Sequential, length: int, num_threads: int | None = None
                 ) -> None:
        from bitlogic.backends import PackedLogicNet

        netlist, where = to_bit_netlist(list(model)[:length])
        self.length = length
        self.engine = PackedLogicNet(netlist, num_threads=num_threads)
        self.order = where.reshape(-1)
        self.shape = tuple(int(n) for n in where.shape)
        self.rest = model[length:]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        bits = self.engine.last_bits(x.detach().numpy(), self.order)
        return torch.from_numpy(bits).view(x.shape[0], *self.shape)

    def forward_model(self, x: torch.Tensor) -> torch.Tensor:
        """The whole model's output: the front on the engine, the rest as modules."""
        return self.rest(self(x))


class FrontCache:
    """The current :class:`PackedFront` of a model, rebuilt when hardening moves.

    Args:
        enabled: False: :meth:`get` always returns ``None`` (the float forward).
        num_threads: engine threads (``None``: torch's intra-op thread count).
    """

    def __init__(self, enabled: bool = True, num_threads: int | None = None) -> None:
        self.enabled = enabled
        self.num_threads = num_threads
        self._length = 0  # the front length self._front was built for
        self._front: PackedFront | None = None

    def get(self, model: nn.Module, device: torch.device) -> PackedFront | None:
        """The front for ``model`` as it stands, or ``None`` when there is none to run.

        ``None`` also off the CPU, and where the engine's compiled kernel is
        unavailable (its NumPy fallback is slower than the float forward).
        """
        if not self.enabled or device.type != "cpu" or not isinstance(model, nn.Sequential):
            return None
        length = hardened_front_length(model)
        if length != self._length:  # built once per hardening stage, kept when unusable too
            threads = self.num_threads or torch.get_num_threads()
            front = PackedFront(model, length, threads) if length else None
            self._front = None if front is None or front.engine.backend == "numpy" else front
            self._length = length
        return self._front
