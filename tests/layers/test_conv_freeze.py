"""Freezing conv nets: ``model.eval()`` == ``evaluate_netlist`` == packed engine == C == Verilog.

Random nets ``[encoder] -> LogicConv2d -> OrPool2d -> LogicConv2d -> Flatten ->
LogicDense -> GroupSum`` over kernel sizes, strides, padding, depths, ranks and
every parametrization, on odd image sizes; the case id names the seed and the
drawn configuration.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from differential import assert_backends_agree
from torch import nn

from bitlogic.layers import (
    DistributiveThermometer,
    GroupSum,
    LogicConv2d,
    LogicDense,
    OrPool2d,
    Thermometer,
    to_netlist,
)
from bitlogic.layers.conv_freeze import or_tree, restrict_to_zero
from bitlogic.netlist import evaluate_netlist
from bitlogic.parametrizations import list_parametrizations

PARAMS = list_parametrizations()
ENCODERS = (None, "uniform", "distributive")
SIZES = ((7, 9), (5, 5), (9, 7), (6, 11))
BATCHES = (1, 63, 64, 65, 1000)
T = 2  # thresholds per channel


def ranks_of(name: str) -> list[int]:
    return [2] if name == "difflogic" else [2, 4, 6]


def max_depth(rank: int) -> int:
    return {2: 3, 4: 2, 6: 1}[rank]


def draw_config(seed: int, first: str) -> dict:
    """A conv -> pool -> conv -> flatten -> dense configuration drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    pick = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    cfg = dict(seed=seed, first=first, encoder=ENCODERS[seed % 3], size=pick(SIZES),
               channels=int(rng.integers(1, 4)), learnable=seed % 4 == 3)
    convs, h, w = [], *cfg["size"]
    in_ch = cfg["channels"] * (T if cfg["encoder"] else 1)
    for i in range(2):
        name = first if i == 0 else pick(PARAMS)
        rank = pick(ranks_of(name))
        k, s, p = int(rng.integers(1, 6 if i == 0 else 4)), int(rng.integers(1, 4)), \
            int(rng.integers(0, 3))
        if k > h + 2 * p or k > w + 2 * p:
            k = 1
        depth = int(rng.integers(1, max_depth(rank) + 1))
        while depth > 1 and rank ** depth > in_ch * k * k:
            depth -= 1
        learnable = cfg["learnable"] or rank > in_ch * k * k
        out = int(rng.integers(2, 5))
        convs.append(dict(name=name, rank=rank, k=k, s=s, p=p, depth=depth, out=out,
                          learnable=learnable))
        h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        in_ch = out
        if i == 0:  # the pool between the convs
            pk, pp = int(rng.integers(1, 4)), int(rng.integers(0, 2))
            ps = pick([None, 1, 2])
            if pk > h + 2 * pp or pk > w + 2 * pp:
                pk, pp = 1, 0
            cfg["pool"] = (pk, ps, pp)
            stride = ps or pk
            h, w = (h + 2 * pp - pk) // stride + 1, (w + 2 * pp - pk) // stride + 1
    cfg["convs"], cfg["flat"] = convs, in_ch * h * w
    cfg["classes"] = int(rng.integers(1, 5))
    return cfg


def case_id(cfg: dict) -> str:
    convs = "_".join(f"{c['name']}r{c['rank']}k{c['k']}s{c['s']}p{c['p']}d{c['depth']}"
                     f"{'L' if c['learnable'] else ''}" for c in cfg["convs"])
    h, w = cfg["size"]
    return (f"seed{cfg['seed']}-{cfg['encoder']}-C{cfg['channels']}x{h}x{w}-{convs}"
            f"-pool{'.'.join(map(str, cfg['pool']))}")


def build_model(cfg: dict) -> nn.Sequential:
    torch.manual_seed(cfg["seed"])
    modules: list[nn.Module] = []
    if cfg["encoder"] == "uniform":
        modules.append(Thermometer(T))
    elif cfg["encoder"] == "distributive":
        modules.append(DistributiveThermometer(T).fit(torch.rand(50, cfg["channels"], 4, 4)))
    in_ch = cfg["channels"] * (T if cfg["encoder"] else 1)
    for i, c in enumerate(cfg["convs"]):
        extra = dict(connections="learnable") if c["learnable"] else {}
        modules.append(LogicConv2d(in_ch, c["out"], c["k"], c["s"], c["p"], c["depth"],
                                   c["name"], c["rank"], **extra))
        in_ch = c["out"]
        if i == 0:
            modules.append(OrPool2d(*cfg["pool"]))
    modules.append(nn.Flatten())
    modules.append(LogicDense(cfg["flat"], cfg["classes"] * 3, "light", 2, init_method="random"))
    modules.append(GroupSum(cfg["classes"], tau=1.5))
    model = nn.Sequential(*modules)
    spread_weights(model)
    return model.eval()


def spread_weights(model: nn.Module) -> None:
    """Spread the LUT weights (and connection logits) so every table entry can flip."""
    with torch.no_grad():
        for w in model.parameters():
            w.mul_(3.0).add_(torch.randn_like(w))


def model_inputs(encoder, shape, batch: int, seed: int) -> torch.Tensor:
    """Bits without an encoder; else floats, a third of them exactly on a threshold grid."""
    gen = torch.Generator().manual_seed(seed)
    if encoder is None:
        return torch.randint(0, 2, (batch, *shape), generator=gen).float()
    x = torch.rand(batch, *shape, generator=gen)
    grid = torch.randint(0, 7, (batch, *shape), generator=gen) / 6
    return torch.where(torch.rand(batch, *shape, generator=gen) < 0.33, grid, x)


def sample_shape(cfg: dict) -> tuple[int, int, int]:
    return (cfg["channels"], *cfg["size"])


CONFIGS = [draw_config(100 * i + j, p) for i, p in enumerate(PARAMS) for j in range(4)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=[case_id(c) for c in CONFIGS])
def test_eval_equals_the_netlist(cfg):
    model = build_model(cfg)
    netlist = to_netlist(model, input_shape=sample_shape(cfg))
    convs = [m for m in model if isinstance(m, LogicConv2d)]
    assert len(netlist.layers) >= sum(c.tree_depth for c in convs) + 2
    assert json.loads(netlist.metadata["parametrizations"])[0] == type(
        convs[0].parametrizations[0]).__name__
    for batch in BATCHES:
        x = model_inputs(cfg["encoder"], sample_shape(cfg), batch, cfg["seed"] + batch)
        assert_backends_agree(model, x, seed=f"{cfg['seed']} batch {batch}", netlist=netlist)


def test_the_configurations_cover_the_grid():
    convs = [c for cfg in CONFIGS for c in cfg["convs"]]
    assert {c["k"] for c in convs} == {1, 2, 3, 4, 5}
    assert {c["s"] for c in convs} == {1, 2, 3}
    assert {c["p"] for c in convs} == {0, 1, 2}
    assert {c["depth"] for c in convs} == {1, 2, 3}
    assert {c["rank"] for c in convs} == {2, 4, 6}
    assert {c["name"] for c in convs} == set(PARAMS)
    assert any(c["learnable"] for c in convs) and not all(c["learnable"] for c in convs)
    assert {cfg["pool"][0] for cfg in CONFIGS} >= {1, 2, 3}


# -- the freeze steps themselves ------------------------------------------------------------


def test_restrict_to_zero_clears_the_constant_inputs():
    xor = np.array([[0, 1, 1, 0]], np.uint8)  # input 0 is the MSB
    assert restrict_to_zero(xor, np.array([[True, False]])).tolist() == [[0, 1, 0, 1]]
    assert restrict_to_zero(xor, np.array([[False, True]])).tolist() == [[0, 0, 1, 1]]
    assert restrict_to_zero(xor, np.array([[True, True]])).tolist() == [[0, 0, 0, 0]]


@pytest.mark.parametrize("m", [1, 5, 6, 7, 9, 36, 37, 49])
def test_or_tree_is_an_or_of_the_valid_slots(m):
    rng = np.random.default_rng(m)
    n = 50
    indices = rng.integers(0, 20, (n, m))
    valid = rng.random((n, m)) < 0.7
    layers = or_tree(indices, valid)
    assert all(layer.rank <= 6 for layer in layers)
    assert len(layers) == 1 + (m > 6) + (m > 36)
    bits = rng.random((200, 20)) < 0.15
    level = bits
    for layer in layers:  # the reference interpreter's rule, inline
        address = np.zeros((bits.shape[0], layer.n_out), dtype=np.intp)
        for j in range(layer.rank):
            address = (address << 1) | level[:, layer.indices[:, j]]
        level = np.take_along_axis(layer.luts.T, address, axis=0).astype(bool)
    expected = (bits[:, indices] & valid).any(axis=2)
    assert np.array_equal(level, expected)


@pytest.mark.parametrize("k,s,p", [(3, 1, 1), (3, 2, 0), (2, 2, 1), (7, 1, 3), (4, 3, 2)])
def test_pool_only_nets_freeze_to_or_trees(k, s, p):
    model = nn.Sequential(OrPool2d(k, s, p), nn.Flatten(), GroupSum(2, tau=1.0)).eval()
    netlist = to_netlist(model, input_shape=(2, 7, 9))
    x = model_inputs(None, (2, 7, 9), 65, k)
    with torch.no_grad():
        expected = model(x)
    assert torch.equal(torch.from_numpy(evaluate_netlist(netlist, x.flatten(1).numpy())[0]),
                       expected)
    assert all(layer.rank <= 6 for layer in netlist.layers)
    if (k, s, p) == (3, 1, 1):  # border windows hold 4 or 6 positions, inner ones 9
        assert [layer.rank for layer in netlist.layers] == [5, 2]


def test_padded_leaves_specialise_the_border_tables():
    torch.manual_seed(3)
    conv = LogicConv2d(1, 1, kernel_size=3, padding=1, tree_depth=1, lut_rank=4,
                       parametrization="warp")
    with torch.no_grad():
        conv.weights[0].normal_(0, 3)
    model = nn.Sequential(conv, nn.Flatten(), GroupSum(1)).eval()
    netlist = to_netlist(model, input_shape=(1, 5, 5))
    luts = netlist.layers[0].luts.reshape(5, 5, 16)
    shared = conv.export_luts()[0][0].numpy()
    assert np.array_equal(luts[2, 2], shared)  # the centre reads no padding
    assert netlist.layers[0].indices.max() < 25


def test_image_thermometer_bit_order_in_the_netlist():
    enc = Thermometer(3)
    model = nn.Sequential(enc, nn.Flatten(), LogicDense(2 * 3 * 4 * 3, 6, "light", 2),
                          GroupSum(2)).eval()
    netlist = to_netlist(model, input_shape=(2, 3, 4))
    assert netlist.encoding.thresholds.shape == (24, 3)
    x = model_inputs("uniform", (2, 3, 4), 200, 1)
    with torch.no_grad():
        expected = model(x)
    assert torch.equal(torch.from_numpy(evaluate_netlist(netlist, x.flatten(1).numpy())[0]),
                       expected)
    # the dense layer's index i (channel-major image bit) became feature * T + t
    dense_idx = model[2].export_indices().numpy()
    c_t, rest = np.divmod(dense_idx, 12)
    c, t = np.divmod(c_t, 3)
    assert np.array_equal(netlist.layers[0].indices, (c * 12 + rest) * 3 + t)


def test_flatten_before_the_encoder_uses_flat_features():
    model = nn.Sequential(nn.Flatten(), Thermometer(2), LogicDense(2 * 24, 6), GroupSum(3)).eval()
    x = torch.rand(40, 2, 3, 4)
    with torch.no_grad():
        expected = model(x)
    for shape in (None, (2, 3, 4)):
        netlist = to_netlist(model, input_shape=shape)
        assert netlist.encoding.num_features == 24
        scores, _ = evaluate_netlist(netlist, x.flatten(1).numpy())
        assert torch.equal(torch.from_numpy(scores), expected)


def test_conv_then_groupsum_reads_channel_major():
    conv = LogicConv2d(2, 3, kernel_size=2, tree_depth=2)
    model = nn.Sequential(conv, nn.Flatten(), GroupSum(3)).eval()
    netlist = to_netlist(model, input_shape=(2, 4, 5))
    assert [layer.n_out for layer in netlist.layers] == [6 * 12, 3 * 12]
    x = model_inputs(None, (2, 4, 5), 64, 0)
    _, counts = evaluate_netlist(netlist, x.flatten(1).numpy())
    with torch.no_grad():
        assert np.array_equal(counts, conv(x).sum(dim=(2, 3)).numpy())


def test_errors():
    conv_net = nn.Sequential(LogicConv2d(1, 2, 3), nn.Flatten(), LogicDense(18, 4), GroupSum(2))
    with pytest.raises(ValueError, match=r"input_shape=\(C, H, W\)"):
        to_netlist(conv_net)
    with pytest.raises(ValueError, match=r"\(in_channels=1, H, W\)"):
        to_netlist(conv_net, input_shape=(2, 5, 5))
    with pytest.raises(ValueError, match="reads 18 bits but the module before it produces 32"):
        to_netlist(conv_net, input_shape=(1, 6, 6))
    no_flatten = nn.Sequential(LogicConv2d(1, 2, 3), LogicDense(18, 4), GroupSum(2))
    with pytest.raises(ValueError, match=r"nn.Flatten\(\)"):
        to_netlist(no_flatten, input_shape=(1, 5, 5))
    partial = nn.Sequential(LogicConv2d(1, 2, 3), nn.Flatten(2), GroupSum(2))
    with pytest.raises(ValueError, match="start_dim=1, end_dim=-1"):
        to_netlist(partial, input_shape=(1, 5, 5))
    with pytest.raises(ValueError, match="larger than the padded input"):
        to_netlist(conv_net, input_shape=(1, 2, 5))
    dense_on_image = nn.Sequential(LogicDense(4, 4), OrPool2d(2), GroupSum(2))
    with pytest.raises(ValueError, match=r"OrPool2d needs an activation of shape \(C, H, W\)"):
        to_netlist(dense_on_image)


# -- every backend on a few small conv nets --------------------------------------------------

SMALL = {
    "bits-conv3p1-pool2": dict(encoder=None, shape=(1, 6, 7), convs=[(3, 1, 1, 2, "light", 2)],
                               pool=(2, None, 0)),
    "thermo-conv2-pool3tree": dict(encoder="uniform", shape=(2, 7, 9),
                                     convs=[(2, 1, 0, 2, "warp", 4)], pool=(3, 1, 1)),
    "dist-learnable6-conv-conv": dict(encoder="distributive", shape=(3, 5, 6),
                                      convs=[(3, 2, 1, 1, "dwn", 6), (2, 1, 0, 1, "polylut", 2)],
                                      pool=(1, None, 0), learnable=True),
}


def small_model(spec: dict) -> nn.Sequential:
    torch.manual_seed(len(spec["convs"]))
    c, h, w = spec["shape"]
    modules: list[nn.Module] = []
    if spec["encoder"] == "uniform":
        modules.append(Thermometer(T))
    elif spec["encoder"] == "distributive":
        modules.append(DistributiveThermometer(T).fit(torch.rand(30, c, h, w)))
    ch = c * (T if spec["encoder"] else 1)
    for i, (k, s, p, depth, name, rank) in enumerate(spec["convs"]):
        kind = "learnable" if spec.get("learnable") else "fixed"
        conv = LogicConv2d(ch, 3, k, s, p, depth, name, rank, connections=kind)
        h, w = conv.output_size(h, w)
        ch = 3
        modules.append(conv)
        if i == 0:
            pool = OrPool2d(*spec["pool"])
            h, w = pool.output_size(h, w)
            modules.append(pool)
    modules += [nn.Flatten(), LogicDense(ch * h * w, 8, "linear", 2), GroupSum(2, tau=0.7)]
    model = nn.Sequential(*modules)
    spread_weights(model)
    return model.eval()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_packed_engines_equal_eager_eval(name):
    spec = SMALL[name]
    model = small_model(spec)
    for batch in BATCHES:
        x = model_inputs(spec["encoder"], spec["shape"], batch, batch)
        assert_backends_agree(model, x, seed=f"{name} batch {batch}", input_shape=spec["shape"])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_c_and_verilog_equal_eager_eval(name, cc, iverilog, tmp_path):
    spec = SMALL[name]
    x = model_inputs(spec["encoder"], spec["shape"], 65, 7)
    assert_backends_agree(small_model(spec), x, seed=f"{name} batch 65",
                          input_shape=spec["shape"], cc=cc, iverilog=iverilog, work=tmp_path)
