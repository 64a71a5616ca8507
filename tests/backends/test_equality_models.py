"""The spine: eager ``model.eval()`` == packed engine == C == simulated Verilog.

Random models of every parametrization, ranks 2/4/6 (mixed within a model),
1-4 layers, with and without encoders, fixed and learnable connections;
batch sizes 1, 63, 64, 65 and 1000. Bits and scores must match exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from differential import assert_backends_agree
from torch import nn

from bitlogic.layers import DistributiveThermometer, GroupSum, LogicDense, Thermometer

PARAMS = ["light", "warp", "linear", "polylut", "neurallut", "dwn", "difflogic"]
ENCODERS = [None, "uniform", "distributive"]
FEATURES = 10
BATCHES = (1, 63, 64, 65, 1000)


def random_model(seed: int, first: str, encoder: str | None, num_layers: int) -> nn.Sequential:
    """A model whose first layer uses ``first``; later layers draw parametrizations at random."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    modules: list[nn.Module] = []
    width = FEATURES
    if encoder == "uniform":
        modules.append(Thermometer(3))
        width *= 3
    elif encoder == "distributive":
        modules.append(DistributiveThermometer(2).fit(torch.rand(300, FEATURES)))
        width *= 2
    classes = int(rng.integers(1, 6))
    for i in range(num_layers):
        name = first if i == 0 else PARAMS[int(rng.integers(len(PARAMS)))]
        rank = 2 if name == "difflogic" else int(rng.choice([2, 4, 6]))
        last = i == num_layers - 1
        out = classes * int(rng.integers(1, 12)) if last else int(rng.integers(6, 48))
        kwargs = dict(connections="learnable", num_candidates=3) if seed % 4 == 0 else {}
        layer = LogicDense(width, out, name, rank, init_method="random", **kwargs)
        with torch.no_grad():  # spread the weights so every table entry can flip
            layer.weight.mul_(3.0).add_(torch.randn_like(layer.weight))
        modules.append(layer)
        width = out
    modules.append(GroupSum(classes, tau=float(rng.uniform(0.3, 5.0))))
    return nn.Sequential(*modules).eval()


def model_inputs(encoder, batch: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    if encoder is None:
        return torch.randint(0, 2, (batch, FEATURES), generator=gen).float()
    return torch.rand(batch, FEATURES, generator=gen)


MODEL_CASES = [(p, e, 1 + (i + j) % 4) for i, p in enumerate(PARAMS) for j, e in
               enumerate(ENCODERS)]


@pytest.mark.parametrize("first,encoder,layers", MODEL_CASES)
def test_packed_engines_equal_eager_eval(first, encoder, layers):
    seed = MODEL_CASES.index((first, encoder, layers))
    model = random_model(seed, first, encoder, layers)
    for batch in BATCHES:
        x = model_inputs(encoder, batch, seed + batch)
        assert_backends_agree(model, x, seed=f"{seed} batch {batch}")


@pytest.mark.parametrize("first", PARAMS)
def test_c_and_verilog_equal_eager_eval(first, cc, iverilog, tmp_path):
    encoder = ENCODERS[PARAMS.index(first) % 3]
    layers = 1 + PARAMS.index(first) % 4
    model = random_model(PARAMS.index(first), first, encoder, layers)
    assert_backends_agree(model, model_inputs(encoder, 65, 7), seed=PARAMS.index(first),
                          cc=cc, iverilog=iverilog, work=tmp_path)
