"""Turning the fused kernels on and off.

The kernels are used when the compiled library loads (a C compiler is present
and ``BITLOGIC_NO_NATIVE`` is unset) and :class:`use_kernels` has not switched
them off; otherwise every layer runs its pure-PyTorch reference.
"""

from __future__ import annotations

from . import _library

_enabled = True


def available() -> bool:
    """True when the compiled training kernels load on this machine.

    The first call builds the library (a few seconds, cached per machine) or,
    when that is impossible, warns once and returns False.
    """
    return _library.load() is not None


def kernels_enabled() -> bool:
    """True when layers will take the fused path: available and not switched off."""
    return _enabled and available()


class use_kernels:  # noqa: N801 - used like a function, as torch.set_grad_enabled is
    """Switch the fused kernels on or off, globally or for a ``with`` block.

    Example:
        >>> from bitlogic.kernels import use_kernels
        >>> with use_kernels(False):
        ...     pass  # layers run the pure-PyTorch reference here
        >>> _ = use_kernels(True)  # or set it for the rest of the program

    Args:
        enabled: False forces the reference path.
    """

    def __init__(self, enabled: bool) -> None:
        global _enabled
        self._previous = _enabled
        _enabled = bool(enabled)

    def __enter__(self) -> use_kernels:
        return self

    def __exit__(self, *exc: object) -> None:
        global _enabled
        _enabled = self._previous
