"""OR pooling in the feature-major layout: exactly ``F.max_pool2d``'s values and gradients.

The reference is ``F.max_pool2d(F.pad(x, (p,) * 4), k, s)`` on an
NCHW-contiguous copy. Its CPU gradient goes, in each window, to the first
offset in row-major order that holds the max; inputs with many ties (bits and
``{0, 0.5, 1}``) check that rule, continuous ones the plain case.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from bitlogic.kernels import or_pool as or_pool_module
from bitlogic.kernels import use_kernels
from bitlogic.kernels.or_pool import or_pool_feature_major
from bitlogic.layers import LogicConv2d, OrPool2d

CHANNELS, HEIGHT, WIDTH = 3, 7, 9
VALUES = ("continuous", "bits", "thirds")
CASES = [(seed, k, s, p, batch, values) for seed, (k, s, p, batch, values) in enumerate(
    itertools.product([1, 2, 3], [1, 2, 3], [0, 1], [1, 5, 64, 67], VALUES))]


def case_id(case) -> str:
    seed, k, s, p, batch, values = case
    return f"seed{seed}-k{k}s{s}p{p}-b{batch}-{values}"


def feature_major_input(batch: int, values: str, gen: torch.Generator) -> torch.Tensor:
    """``(batch, C, H, W)`` stored as a contiguous ``(C, H, W, batch)``."""
    shape = (CHANNELS, HEIGHT, WIDTH, batch)
    if values == "continuous":
        x = torch.rand(shape, generator=gen)
    elif values == "bits":
        x = torch.randint(0, 2, shape, generator=gen).float()
    else:
        x = torch.randint(0, 3, shape, generator=gen).float() / 2
    return x.permute(3, 0, 1, 2)


def is_feature_major(t: torch.Tensor) -> bool:
    return t.permute(1, 2, 3, 0).is_contiguous()


def reference(x: torch.Tensor, k: int, s: int, p: int) -> torch.Tensor:
    return F.max_pool2d(F.pad(x.contiguous(), (p,) * 4), k, s)


def pooled_with_grad(pool, x: torch.Tensor, gen_seed: int):
    """Output and input gradient of ``<pool(x), g>`` for a random ``g``."""
    x = x.detach().clone().requires_grad_(True)
    out = pool(x)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(gen_seed))
    (grad,) = torch.autograd.grad(out, x, g)
    return out.detach(), grad


@pytest.mark.without_kernels
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_values_and_gradients_equal_max_pool(case):
    seed, k, s, p, batch, values = case
    x = feature_major_input(batch, values, torch.Generator().manual_seed(seed))
    out, grad = pooled_with_grad(lambda t: or_pool_feature_major(t, k, s, p), x, seed)
    expected, expected_grad = pooled_with_grad(lambda t: reference(t, k, s, p), x, seed)
    assert out.shape == expected.shape
    assert torch.equal(out, expected), f"seed {seed}: values"
    assert is_feature_major(out)
    assert torch.equal(grad, expected_grad), f"seed {seed}: gradient"
    with torch.no_grad():
        assert torch.equal(or_pool_feature_major(x, k, s, p), expected)


@pytest.mark.without_kernels
def test_ties_go_to_the_first_max_in_row_major_order():
    x = torch.tensor([[[[0.0, 1.0, 1.0], [1.0, 1.0, 0.0]]]], requires_grad=True)
    or_pool_feature_major(x, 2, 1, 0).sum().backward()
    # window (0, 0) holds maxes at (0, 1), (1, 0), (1, 1); window (0, 1) at (0, 1), (0, 2), (1, 1)
    assert x.grad.tolist() == [[[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]]


@pytest.mark.without_kernels
def test_without_autograd_and_any_layout():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 2, 6, 5, generator=gen)  # NCHW-contiguous: same values, feature-major out
    out = or_pool_feature_major(x, 3, 2, 1)
    assert out.grad_fn is None and is_feature_major(out)
    assert torch.equal(out, reference(x, 3, 2, 1))
    x.requires_grad_(True)
    with torch.no_grad():
        assert or_pool_feature_major(x, 3, 2, 1).grad_fn is None
    one_by_one = or_pool_feature_major(x.detach(), 1, 1, 0)
    assert torch.equal(one_by_one, x) and one_by_one.data_ptr() != x.data_ptr()  # no aliasing


@pytest.mark.without_kernels
def test_differentiable_once_and_kernel_too_large():
    x = feature_major_input(3, "continuous", torch.Generator().manual_seed(1)).requires_grad_(True)
    out = or_pool_feature_major(x, 2, 2)
    cotangent = torch.rand(out.shape, requires_grad=True)  # makes the gradient differentiable
    (grad,) = torch.autograd.grad(out, x, cotangent, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad.sum().backward()
    with pytest.raises(ValueError, match="kernel_size=4 is larger than the padded input 3x3"):
        or_pool_feature_major(torch.rand(2, 1, 1, 1), 4, 1, 1)


@pytest.mark.without_kernels
def test_nan_does_not_fail():
    # Out of the inputs' [0, 1] range: the value is NaN as max_pool2d's, the gradient finite.
    x = torch.zeros(2, 1, 4, 4)
    x[:, :, 0, 0] = float("nan")
    x = x.permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2).requires_grad_(True)
    out = or_pool_feature_major(x, 2, 2)
    torch.testing.assert_close(out, reference(x, 2, 2, 0), rtol=0, atol=0, equal_nan=True)
    out.sum().backward()
    assert x.grad.isfinite().all() and x.grad.sum() == out.numel()


@pytest.fixture
def pool_calls(monkeypatch):
    """Inputs of every feature-major pool call made by ``OrPool2d``."""
    calls = []
    original = or_pool_module.or_pool_feature_major

    def spy(x, *args):
        calls.append(tuple(x.shape))
        return original(x, *args)

    monkeypatch.setattr(or_pool_module, "or_pool_feature_major", spy)
    return calls


def test_or_pool_takes_feature_major_float_inputs_only(pool_calls):
    pool = OrPool2d(3, stride=2, padding=1)
    x = feature_major_input(5, "bits", torch.Generator().manual_seed(2))
    out = pool(x)
    assert is_feature_major(out) and torch.equal(out, reference(x, 3, 2, 1))
    assert pool_calls == [(5, 3, 7, 9)]
    pool(x.contiguous())  # NCHW, and batch 1 (both layouts at once): max_pool2d
    pool(x[:1])
    pool(x.double())  # double input keeps the layout, not float32: max_pool2d
    with use_kernels(False):
        pool(x)
    assert pool_calls == [(5, 3, 7, 9)]


def stack() -> torch.nn.Sequential:
    torch.manual_seed(3)
    model = torch.nn.Sequential(
        LogicConv2d(3, 4, kernel_size=3, padding=1, parametrization="warp", lut_rank=4),
        OrPool2d(2),
        LogicConv2d(4, 5, kernel_size=2, parametrization="warp", lut_rank=4),
    )
    with torch.no_grad():  # spread the weights so the tables differ
        for p in model.parameters():
            p.mul_(2.0).add_(torch.randn_like(p))
    return model.train()


def stack_step(model, x: torch.Tensor):
    """Output, input gradient and parameter gradients of one seeded training step."""
    model.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    torch.manual_seed(4)
    out = model(x)
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    return out.detach(), x.grad, {name: p.grad.clone() for name, p in model.named_parameters()}


def test_conv_pool_conv_stack_equals_max_pool_path(pool_calls, monkeypatch):
    model, x = stack(), torch.rand(6, 3, 8, 7)
    out, grad, param_grads = stack_step(model, x)
    assert pool_calls == [(6, 4, 8, 7)]  # the fused convolution's output took the new path
    monkeypatch.setattr(or_pool_module, "or_pool_feature_major", lambda *args: None)
    expected, expected_grad, expected_param_grads = stack_step(model, x)
    assert torch.equal(out, expected)
    assert torch.equal(grad, expected_grad)
    assert param_grads.keys() == expected_param_grads.keys()
    for name, value in expected_param_grads.items():
        assert torch.equal(param_grads[name], value), name
