"""BitLinear, PackedBitLinear, MultiTernaryLinear and quantize_model."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bitlogic.ternary import (
    BitLinear,
    MultiTernaryLinear,
    PackedBitLinear,
    QuantizationReport,
    bitlinear_forward,
    greedy_ternary_decomposition,
    quantize_activations,
    quantize_model,
    rms_norm,
    weight_to_ternary,
)

# --------------------------------------------------------------- BitLinear ----


@pytest.mark.parametrize("per_channel", [False, True])
def test_bitlinear_uses_ternary_weights_and_quantized_activations(per_channel):
    torch.manual_seed(0)
    layer = BitLinear(24, 10, rms_norm=False, per_channel=per_channel)
    x = torch.randn(5, 24)
    T, gamma = layer.ternary_weight()
    assert set(T.unique().tolist()) <= {-1.0, 0.0, 1.0}
    codes, step = quantize_activations(x, 8)
    w_q = T * (gamma[:, None] if per_channel else gamma)
    torch.testing.assert_close(layer(x), (codes * step) @ w_q.t() + layer.bias)


def test_bitlinear_straight_through_gradients_are_identity():
    torch.manual_seed(1)
    layer = BitLinear(17, 6, rms_norm=False, activation_bits=4)
    x = torch.randn(3, 17, requires_grad=True)
    upstream = torch.randn(3, 6)
    layer(x).backward(upstream)
    T, gamma = layer.ternary_weight()
    codes, step = quantize_activations(x.detach(), 4)
    # d/dx and d/dW as if both quantizers were the identity map.
    torch.testing.assert_close(x.grad, upstream @ (gamma * T), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(
        layer.weight.grad, upstream.t() @ (codes * step), rtol=1e-6, atol=1e-7
    )
    torch.testing.assert_close(layer.bias.grad, upstream.sum(0))


def test_bitlinear_rms_norm_and_leading_dims():
    torch.manual_seed(2)
    layer = BitLinear(12, 4)
    x = torch.randn(2, 3, 12)
    y = layer(x)
    assert y.shape == (2, 3, 4)
    plain = BitLinear(12, 4, rms_norm=False)
    plain.load_state_dict(layer.state_dict())
    assert torch.equal(y.reshape(6, 4), plain(rms_norm(x.reshape(6, 12))))


def test_bitlinear_train_and_eval_agree():
    layer = BitLinear(30, 8)
    x = torch.randn(4, 30)
    y_train = layer(x)
    layer.eval()
    with torch.no_grad():
        assert torch.equal(layer(x), y_train)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_features": 0}, ValueError, "in_features must be >= 1, got 0"),
        ({"out_features": -2}, ValueError, "out_features must be >= 1, got -2"),
        ({"in_features": 2.5}, TypeError, "in_features must be an int"),
        ({"activation_bits": 9}, ValueError, r"activation_bits must be in \[2, 8\], got 9"),
        ({"activation_bits": 1}, ValueError, r"activation_bits must be in \[2, 8\], got 1"),
        ({"activation_bits": "8"}, TypeError, "activation_bits must be an int"),
        ({"rms_norm": 1}, TypeError, "rms_norm must be a bool"),
        ({"per_channel": None}, TypeError, "per_channel must be a bool"),
        ({"bias": "no"}, TypeError, "bias must be a bool"),
        ({"dtype": torch.int32}, TypeError, "dtype must be a floating dtype"),
    ],
)
def test_bitlinear_bad_arguments(kwargs, error, match):
    args = {"in_features": 4, "out_features": 3, **kwargs}
    with pytest.raises(error, match=match):
        BitLinear(**args)


def test_bitlinear_forward_rejects_bad_input():
    with pytest.raises(ValueError, match=r"x must have shape \[\.\.\., 4\]"):
        BitLinear(4, 3)(torch.randn(2, 5))
    with pytest.raises(ValueError, match="got a 0-dim tensor"):
        BitLinear(4, 3)(torch.tensor(1.0))
    with pytest.raises(TypeError, match="x must be a floating torch.Tensor"):
        bitlinear_forward(torch.ones(2, 4, dtype=torch.int64), torch.randn(3, 4))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        bitlinear_forward(torch.randn(2, 4), torch.randn(4))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        bitlinear_forward(torch.randn(2, 4), torch.randn(3, 4), torch.randn(4))
    with pytest.raises(ValueError, match=r"bits must be in \[2, 16\], got 20"):
        bitlinear_forward(torch.randn(2, 4), torch.randn(3, 4), activation_bits=20)


def test_from_linear_copies_parameters():
    linear = nn.Linear(9, 5, dtype=torch.float64)
    layer = BitLinear.from_linear(linear, per_channel=True, activation_bits=6)
    assert torch.equal(layer.weight, linear.weight) and torch.equal(layer.bias, linear.bias)
    assert layer.weight.dtype == torch.float64 and layer.per_channel
    assert layer.activation_bits == 6
    assert BitLinear.from_linear(nn.Linear(3, 2, bias=False)).bias is None
    with pytest.raises(TypeError, match="linear must be an nn.Linear"):
        BitLinear.from_linear(nn.Conv1d(1, 1, 1))
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['bits'\]"):
        BitLinear.from_linear(linear, bits=8)


# --------------------------------------------------------- PackedBitLinear ----


@pytest.mark.parametrize(
    ("per_channel", "rms", "bits", "bias"),
    [
        (False, True, 8, True),
        (True, True, 8, False),
        (False, False, 4, True),
        (True, False, 2, True),
    ],
)
@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_pack_is_bit_identical_to_eval(per_channel, rms, bits, bias, backend):
    torch.manual_seed(3)
    layer = BitLinear(
        300, 37, bias=bias, rms_norm=rms, activation_bits=bits, per_channel=per_channel
    )
    layer.eval()
    packed = layer.pack()
    packed.backend = backend
    assert isinstance(packed, PackedBitLinear)
    assert packed.packed.dtype == torch.uint8 and packed.packed.shape == (37, 128)
    for shape in [(1, 300), (3, 300), (2, 16, 300)]:
        x = torch.randn(*shape) * 3
        with torch.no_grad():
            assert torch.equal(packed(x), layer(x))


def test_packed_state_dict_round_trip():
    layer = BitLinear(70, 9)
    packed = layer.pack()
    fresh = PackedBitLinear.empty(70, 9)
    x = torch.randn(4, 70)
    assert not torch.equal(fresh(x), packed(x))
    fresh.load_state_dict(packed.state_dict())
    assert torch.equal(fresh(x), packed(x))
    assert set(packed.state_dict()) == {"packed", "gamma", "bias"}


def test_packed_bad_arguments():
    good = torch.full((3, 64), 0x55, dtype=torch.uint8)
    with pytest.raises(TypeError, match="packed must be a uint8"):
        PackedBitLinear(good.float(), torch.ones(3), None, 10)
    with pytest.raises(ValueError, match=r"packed must have shape \[out_features, 128\]"):
        PackedBitLinear(good, torch.ones(3), None, 300)
    with pytest.raises(ValueError, match=r"gamma must be a tensor of shape \(3,\)"):
        PackedBitLinear(good, torch.ones(2), None, 10)
    with pytest.raises(ValueError, match=r"bias must be a tensor of shape \(3,\)"):
        PackedBitLinear(good, torch.ones(3), torch.ones(4), 10)
    with pytest.raises(ValueError, match=r"activation_bits must be an int in \[2, 8\]"):
        PackedBitLinear(good, torch.ones(3), None, 10, activation_bits=16)
    with pytest.raises(ValueError, match="backend must be one of"):
        PackedBitLinear(good, torch.ones(3), None, 10, backend="gpu")
    with pytest.raises(ValueError, match="num_threads must be None or an int >= 1"):
        PackedBitLinear(good, torch.ones(3), None, 10, num_threads=0)
    with pytest.raises(TypeError, match="rms_norm must be a bool"):
        PackedBitLinear(good, torch.ones(3), None, 10, rms_norm="yes")
    with pytest.raises(ValueError, match="out_features must be an int >= 1, got 0"):
        PackedBitLinear.empty(10, 0)
    with pytest.raises(ValueError, match=r"x must have shape \[\.\.\., 10\]"):
        PackedBitLinear(good, torch.ones(3), None, 10)(torch.randn(2, 11))


# ------------------------------------------------------ MultiTernaryLinear ----


def test_multi_ternary_forward_and_gradient():
    torch.manual_seed(4)
    layer = MultiTernaryLinear(20, 7, k=3)
    x = torch.randn(5, 20, requires_grad=True)
    W_t, g = greedy_ternary_decomposition(layer.weight.detach(), 3)
    w_q = torch.einsum("io,ior->or", g, W_t)
    y = layer(x)
    assert torch.equal(y, F.linear(x.detach(), w_q, layer.bias.detach()))
    upstream = torch.randn(5, 7)
    y.backward(upstream)
    torch.testing.assert_close(layer.weight.grad, upstream.t() @ x.detach())
    torch.testing.assert_close(x.grad, upstream @ w_q)


def test_multi_ternary_more_components_fit_better():
    linear = nn.Linear(64, 32)
    x = torch.randn(16, 64)
    target = linear(x).detach()
    gaps = [
        (MultiTernaryLinear.from_linear(linear, k=k, refit=refit)(x) - target).norm().item()
        for k, refit in [(1, False), (2, False), (2, True), (4, False)]
    ]
    assert gaps[0] > gaps[1] > gaps[3]
    assert gaps[2] <= gaps[1] * (1 + 1e-5)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        MultiTernaryLinear(4, 4, k=0)
    with pytest.raises(TypeError, match="refit must be a bool"):
        MultiTernaryLinear(4, 4, refit=None)
    with pytest.raises(TypeError, match="linear must be an nn.Linear, got ReLU"):
        MultiTernaryLinear.from_linear(nn.ReLU())


# ----------------------------------------------------------- quantize_model ----


def make_mlp():
    return nn.Sequential(
        nn.Linear(8, 32), nn.ReLU(), nn.Sequential(nn.Linear(32, 32), nn.ReLU()), nn.Linear(32, 3)
    )


def test_quantize_model_swaps_every_linear_and_reports():
    model = make_mlp()
    before = {
        n: m.weight.detach().clone() for n, m in model.named_modules() if hasattr(m, "weight")
    }
    report = quantize_model(model, per_channel=True)
    assert isinstance(report, QuantizationReport)
    assert report.swapped == ("0", "2.0", "3") and report.skipped == ()
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert all(model.get_submodule(n).per_channel for n in report.swapped)
    for name, weight in before.items():
        assert torch.equal(model.get_submodule(name).weight, weight)
    assert report.ternary_weights == 8 * 32 + 32 * 32 + 32 * 3
    assert report.float_parameters == 32 + 32 + 3
    assert "swapped 3 linear layer(s)" in str(report)


def test_quantize_model_exclude_subclasses_and_sharing():
    shared = nn.Linear(4, 4)
    model = nn.ModuleDict({"a": shared, "b": nn.Sequential(shared), "head": nn.Linear(4, 2)})
    model["attn"] = nn.MultiheadAttention(4, 1)
    report = quantize_model(model, layer="multi_ternary", exclude=["head"], k=2)
    assert isinstance(model["a"], MultiTernaryLinear) and model["a"] is model["b"][0]
    assert set(report.swapped) == {"a", "b.0"}
    assert set(report.skipped) == {"head", "attn.out_proj"}
    assert isinstance(model["head"], nn.Linear)
    with pytest.raises(ValueError, match=r"exclude names \['nope'\] are not linear layers"):
        quantize_model(make_mlp(), exclude=["nope"])
    with pytest.raises(ValueError, match="layer must be one of"):
        quantize_model(make_mlp(), layer="binary")
    with pytest.raises(ValueError, match="model is itself an nn.Linear"):
        quantize_model(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="exclude must be an iterable of module names"):
        quantize_model(make_mlp(), exclude="0")
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        quantize_model("model")


def test_quantized_model_still_trains():
    torch.manual_seed(5)
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()  # 3 classes
    model = make_mlp()
    quantize_model(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert (model(x).argmax(1) == y).float().mean() > 0.85


def test_quantized_model_state_dict_round_trip():
    model = make_mlp()
    quantize_model(model)
    clone = make_mlp()
    quantize_model(clone)
    x = torch.randn(5, 8)
    assert not torch.equal(clone(x), model(x))
    clone.load_state_dict(model.state_dict())
    assert torch.equal(clone(x), model(x))
    T, gamma = weight_to_ternary(model[0].weight.detach())
    assert torch.equal(clone[0].ternary_weight()[0], T)
