"""Training-time augmentation of image datasets: shifts, flips and cutout."""

from __future__ import annotations

import torch


def _image_shape(x: torch.Tensor, feature_shape: tuple[int, ...], what: str
                 ) -> tuple[int, int, int]:
    """``(C, H, W)`` of flattened images ``x``; ``ValueError`` naming ``what`` otherwise."""
    if len(feature_shape) != 3:
        raise ValueError(f"{what} need images shaped (C, H, W), got feature_shape="
                         f"{tuple(feature_shape)}")
    c, h, w = (int(n) for n in feature_shape)
    if x.dim() != 2 or x.shape[1] != c * h * w:
        raise ValueError(f"x must have shape (batch, {c * h * w}), got {tuple(x.shape)}")
    return c, h, w


def random_shift(x: torch.Tensor, feature_shape: tuple[int, ...], max_shift: int,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate every image by its own random offset, filling with zeros.

    Offsets are drawn uniformly from ``[-max_shift, max_shift]`` in each of
    the two image axes (one draw per sample, shared by the channels).

    Args:
        x: float ``(batch, C * H * W)`` flattened images.
        feature_shape: ``(C, H, W)``.
        max_shift: largest offset in pixels, ``>= 0``.
        generator: random source; the global one when ``None``.

    Returns:
        ``(batch, C * H * W)``, a new tensor.

    Raises:
        ValueError: ``feature_shape`` is not ``(C, H, W)`` or does not match ``x``,
            or ``max_shift`` is negative.
    """
    c, h, w = _image_shape(x, feature_shape, "random shifts")
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift}")
    if max_shift == 0:
        return x.clone()
    batch, s = x.shape[0], max_shift
    offsets = torch.randint(-s, s + 1, (2, batch, 1, 1), generator=generator, device=x.device)
    padded = torch.nn.functional.pad(x.view(batch, c, h, w), (s, s, s, s))
    rows = torch.arange(h, device=x.device).view(1, h, 1) + s - offsets[0]
    cols = torch.arange(w, device=x.device).view(1, 1, w) + s - offsets[1]
    flat = (rows * (w + 2 * s) + cols).view(batch, 1, h * w).expand(batch, c, h * w)
    return padded.reshape(batch, c, -1).gather(2, flat).reshape(batch, -1)


def random_flip(x: torch.Tensor, feature_shape: tuple[int, ...],
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2 (one draw per sample).

    Args:
        x: float ``(batch, C * H * W)`` flattened images.
        feature_shape: ``(C, H, W)``.
        generator: random source; the global one when ``None``.

    Returns:
        ``(batch, C * H * W)``, a new tensor.

    Raises:
        ValueError: ``feature_shape`` is not ``(C, H, W)`` or does not match ``x``.
    """
    c, h, w = _image_shape(x, feature_shape, "random flips")
    flip = torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5
    images = x.view(-1, c, h, w)
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(3), images).reshape(x.shape[0], -1)


def random_cutout(x: torch.Tensor, feature_shape: tuple[int, ...], size: int,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a ``size`` x ``size`` square of every image, at its own random place.

    The square's centre is drawn uniformly over the image, so near a border
    only part of the square falls inside (cutout, DeVries & Taylor 2017); all
    channels are erased. Zero pixels become all-zero thermometer bits.

    Args:
        x: float ``(batch, C * H * W)`` flattened images.
        feature_shape: ``(C, H, W)``.
        size: side of the square in pixels, ``>= 0`` (0: a copy of ``x``).
        generator: random source; the global one when ``None``.

    Returns:
        ``(batch, C * H * W)``, a new tensor.

    Raises:
        ValueError: ``feature_shape`` is not ``(C, H, W)`` or does not match ``x``,
            or ``size`` is negative.
    """
    c, h, w = _image_shape(x, feature_shape, "cutout")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    batch = x.shape[0]
    centres = torch.stack([torch.randint(0, h, (batch,), generator=generator, device=x.device),
                           torch.randint(0, w, (batch,), generator=generator, device=x.device)])
    top = (centres[0] - size // 2).view(batch, 1, 1)
    left = (centres[1] - size // 2).view(batch, 1, 1)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    images = x.view(batch, c, h, w)
    return images.masked_fill(inside.unsqueeze(1), 0.0).reshape(batch, -1)
