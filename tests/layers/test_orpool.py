"""OrPool2d: max over the window (zero padding), an OR on bits."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from bitlogic.layers import OrPool2d


def or_reference(x: torch.Tensor, k: int, s: int, p: int) -> torch.Tensor:
    """OR (any) over each zero-padded window, by unfold."""
    b, c, h, w = x.shape
    patches = F.unfold(F.pad(x, (p, p, p, p)), k, stride=s).view(b, c, k * k, -1)
    out_h, out_w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return (patches > 0).any(dim=2).float().view(b, c, out_h, out_w)


@pytest.mark.parametrize("k,s,p", list(itertools.product([1, 2, 3, 4], [None, 1, 2, 3],
                                                          [0, 1, 2])))
def test_on_bits_it_is_an_or(k, s, p):
    pool = OrPool2d(k, s, p)
    x = (torch.rand(3, 2, 7, 9) < 0.2).float()
    assert torch.equal(pool(x), or_reference(x, k, s or k, p))


def test_training_is_max_over_the_window_with_zero_padding():
    x = torch.rand(2, 3, 6, 5)
    assert torch.equal(OrPool2d(2)(x), F.max_pool2d(x, 2))
    assert torch.equal(OrPool2d(3, stride=1)(x), F.max_pool2d(x, 3, 1))
    padded = OrPool2d(3, stride=2, padding=1)(x)
    assert torch.equal(padded, F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2))
    x.requires_grad_(True)
    OrPool2d(2)(x).sum().backward()
    assert x.grad.sum() == 2 * 3 * 3 * 2  # one winner per window


def test_stride_defaults_to_kernel_and_repr():
    pool = OrPool2d(3)
    assert pool.stride == 3
    assert repr(pool) == "OrPool2d(kernel_size=3, stride=3, padding=0)"
    assert OrPool2d(2, padding=1).output_size(7, 9) == (4, 5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(kernel_size=0), "kernel_size must be a positive integer"),
    (dict(kernel_size=2, stride=0), "stride must be a positive integer"),
    (dict(kernel_size=2, padding=-1), "padding must be an integer >= 0"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OrPool2d(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"x must be \(batch, C, H, W\)"):
        OrPool2d(2)(torch.rand(2, 8))
    with pytest.raises(ValueError, match="kernel_size=4 is larger than the padded input"):
        OrPool2d(4)(torch.rand(1, 1, 3, 8))
