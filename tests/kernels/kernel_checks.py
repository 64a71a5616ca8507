"""Shared tolerances, strategies and helpers for the kernel-vs-reference tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from hypothesis import strategies as st

# float32 kernels against float32 references: the forward folds round like the
# reference, the backward sums in a different order and uses FMAs.
ATOL = 2e-5
RTOL = 1e-4

RANKS = (2, 4, 6)
MODES = ("soft", "hard", "gumbel_soft", "gumbel_hard")

# Batches include 1 and sizes that are not multiples of the 16-sample vectors.
batches = st.sampled_from([1, 3, 16, 17, 31, 64, 70])
widths = st.integers(min_value=1, max_value=40)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def assert_close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    """Compare with the suite's tolerances, naming the quantity on failure."""
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL,
                               msg=lambda m: f"{what}: {m}")


def random_indices(in_dim: int, rank: int, out_dim: int, gen: torch.Generator) -> torch.Tensor:
    """``(rank, out_dim)`` int64 drawn with replacement, so repeated inputs are covered."""
    return torch.randint(0, in_dim, (rank, out_dim), generator=gen)


def grads_of(out: torch.Tensor, inputs: list[torch.Tensor], gen: torch.Generator):
    """Gradients of ``<out, g>`` for a random ``g`` drawn from ``gen``."""
    g = torch.randn(out.shape, generator=gen)
    return torch.autograd.grad(out, inputs, g)


def leaf(t: torch.Tensor) -> torch.Tensor:
    """A fresh leaf copy that requires grad (kernel and reference get separate leaves)."""
    return t.detach().clone().requires_grad_(True)


def compare_paths(kernel_fn, reference_fn, tensors: list[torch.Tensor], names: list[str],
                  gen_seed: int) -> None:
    """Run both functions on separate leaf copies; compare outputs and all gradients.

    Args:
        kernel_fn, reference_fn: map the list of leaves to an output tensor.
        tensors: inputs; each is copied to a leaf for each path.
        names: names of the inputs, for messages.
        gen_seed: seed of the output cotangent.
    """
    k_in, r_in = [leaf(t) for t in tensors], [leaf(t) for t in tensors]
    k_out, r_out = kernel_fn(*k_in), reference_fn(*r_in)
    assert_close(k_out, r_out, "output")
    k_grads = grads_of(k_out, k_in, torch.Generator().manual_seed(gen_seed))
    r_grads = grads_of(r_out, r_in, torch.Generator().manual_seed(gen_seed))
    for name, kg, rg in zip(names, k_grads, r_grads, strict=True):
        assert_close(kg, rg, f"grad of {name}")


def forward_backward(model, x: torch.Tensor, seed: int, kernels: bool,
                     every_parameter: bool = False):
    """Forward + backward of ``model`` under ``seed``, fused or reference path.

    Returns the output, the input gradient and ``{name: grad}`` of every
    parameter that received one (``every_parameter``: each must have).
    """
    from bitlogic.kernels import use_kernels

    model.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    with use_kernels(kernels):
        torch.manual_seed(seed)
        out = model(x)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    if every_parameter:
        missing = [name for name, p in model.named_parameters() if p.grad is None]
        assert not missing, f"no gradient reached {missing}"
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return out.detach(), x.grad, grads


def assert_paths_agree(model, x: torch.Tensor, seed: int = 0,
                       every_parameter: bool = False) -> None:
    """The fused and the reference path give the same output and gradients."""
    out_k, dx_k, grads_k = forward_backward(model, x, seed, True, every_parameter)
    out_r, dx_r, grads_r = forward_backward(model, x, seed, False, every_parameter)
    assert out_k.shape == out_r.shape
    assert_close(out_k, out_r, "output")
    assert_close(dx_k, dx_r, "grad of x")
    assert grads_k.keys() == grads_r.keys()
    for name in grads_r:
        assert_close(grads_k[name], grads_r[name], f"grad of {name}")


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)``, restoring the count after."""
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        yield
    finally:
        torch.set_num_threads(previous)


def values_and_grads(layer, x: torch.Tensor, w: torch.Tensor):
    """``layer(x, w)`` on fresh leaves and its gradients for a fixed ramp cotangent."""
    x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
    y = layer(x, w)
    dx, dw = torch.autograd.grad(y, (x, w), torch.linspace(-1, 1, y.numel()).view_as(y))
    return y.detach(), dx, dw
