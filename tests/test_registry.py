"""``Registry``: one shape for every family of named things, and the families that use it."""

from __future__ import annotations

import pytest

from bitlogic.registry import Registry


@pytest.fixture
def reg() -> Registry:
    r: Registry = Registry("widget")
    r.register("beta", 2)
    r.register("alpha", 1, aliases=("a", "first"))
    return r


def test_names_are_sorted_and_aliases_listed_on_request(reg):
    assert reg.names() == ["alpha", "beta"]
    assert reg.names(aliases=True) == ["a", "alpha", "beta", "first"]
    assert list(reg) == ["alpha", "beta"] and len(reg) == 2
    assert reg.items() == [("alpha", 1), ("beta", 2)]


def test_duplicate_names_and_aliases_raise(reg):
    with pytest.raises(ValueError, match="widget 'beta' is already registered"):
        reg.register("beta", 3)
    with pytest.raises(ValueError, match="widget 'a' is already registered"):
        reg.register("a", 3)  # a name may not shadow an alias
    with pytest.raises(ValueError, match="'alpha' is already registered"):
        reg.register("gamma", 3, aliases=("alpha",))
    with pytest.raises(ValueError, match="lists a name twice"):
        reg.register("gamma", 3, aliases=("gamma",))
    with pytest.raises(ValueError, match="non-empty strings"):
        reg.register("", 3)
    assert "gamma" not in reg  # a refused registration leaves nothing behind


@pytest.mark.parametrize("error", [KeyError, ValueError])
def test_unknown_name_raises_the_family_error_listing_valid_names(error):
    r: Registry = Registry("widget", error)
    r.register("alpha", 1, aliases=("a",))
    r.register("beta", 2)
    with pytest.raises(error, match=r"unknown widget 'gamma'; valid names: a, alpha, beta"):
        r.get("gamma")
    with pytest.raises(error, match="unknown widget None"):
        r.get(None)  # type: ignore[arg-type]


def test_aliases_resolve_to_the_same_entry(reg):
    assert reg.get("a") == reg.get("first") == reg.get("alpha") == 1
    assert reg.canonical("first") == "alpha" and reg.canonical("beta") == "beta"
    assert "a" in reg and "alpha" in reg and "zeta" not in reg
    assert ["alpha"] not in reg  # non-strings are never names, and do not raise


def test_unregister_by_name_or_alias_drops_the_aliases_too(reg):
    reg.unregister("first")
    assert reg.names(aliases=True) == ["beta"]
    reg.register("alpha", 10, aliases=("a",))  # the names are free again
    assert reg.get("a") == 10
    with pytest.raises(ValueError, match="unknown widget"):
        reg.unregister("zeta")


def test_decorator_form_returns_the_object_unchanged():
    r: Registry = Registry("flow")

    @r.register("generic", aliases=("default",))
    def generic(x: int) -> int:
        return x + 1

    assert generic(1) == 2 and r.get("default") is generic
    assert r.build("generic", 41) == 42


def test_copy_is_independent(reg):
    twin = reg.copy()
    twin.register("gamma", 3)
    twin.unregister("alpha")
    assert reg.names(aliases=True) == ["a", "alpha", "beta", "first"]
    assert twin.names(aliases=True) == ["beta", "gamma"]
    assert (twin.family, twin.error) == (reg.family, reg.error)


# -- every family is one Registry, with the error type its public API documents ---


def _families() -> list[tuple[str, Registry, type[Exception], set[str]]]:
    from bitlogic.backends.synth import FLOWS
    from bitlogic.cli import EXPORTERS
    from bitlogic.connections.factory import CONNECTIONS
    from bitlogic.data import DATASETS
    from bitlogic.parametrizations.registry import PARAMETRIZATIONS
    from bitlogic.schedules import TEMPERATURE_SCHEDULES
    from bitlogic.ternary import LAYERS
    from bitlogic.train.families import ENCODERS, LR_SCHEDULES, OPTIMIZERS

    return [
        ("parametrizations", PARAMETRIZATIONS, KeyError, {"light", "warp", "dwn", "difflogic"}),
        ("connections", CONNECTIONS, ValueError, {"fixed", "learnable"}),
        ("encoders", ENCODERS, ValueError, {"thermometer", "distributive", "none"}),
        ("optimizers", OPTIMIZERS, ValueError, {"adamw", "adam", "sgd"}),
        ("lr schedules", LR_SCHEDULES, ValueError, {"constant", "step", "cosine"}),
        ("temperature schedules", TEMPERATURE_SCHEDULES, ValueError,
         {"constant", "linear", "cosine", "exponential"}),
        ("datasets", DATASETS, KeyError, {"mnist", "fashion-mnist", "cifar10", "digits"}),
        ("ternary layers", LAYERS, ValueError, {"bitlinear", "multi_ternary"}),
        ("synth flows", FLOWS, ValueError, {"lut6", "lut6-whole", "xilinx"}),
        ("export formats", EXPORTERS, ValueError, {"netlist", "c", "verilog"}),
    ]


@pytest.mark.parametrize("index", range(10), ids=lambda i: _families()[i][0])
def test_each_family_is_a_registry_with_its_documented_error(index):
    _, registry, error, expected = _families()[index]
    assert isinstance(registry, Registry)
    assert registry.error is error
    assert expected <= set(registry.names())
    with pytest.raises(error, match="valid names: "):
        registry.get("no-such-name")


def test_connections_alias_random_is_fixed():
    from bitlogic.connections import FixedDenseConnections, setup_connections
    from bitlogic.connections.factory import CONNECTIONS

    assert CONNECTIONS.names() == ["fixed", "learnable"]
    assert isinstance(setup_connections("random", 8, 4, 2), FixedDenseConnections)
    with pytest.raises(ValueError, match="random"):
        setup_connections("nope", 8, 4, 2)


def test_setup_parametrization_reads_the_registry():
    from bitlogic.parametrizations import (
        LightLUT,
        list_parametrizations,
        register_parametrization,
        setup_parametrization,
    )
    from bitlogic.parametrizations.registry import PARAMETRIZATIONS

    assert list_parametrizations() == PARAMETRIZATIONS.names()
    register_parametrization("toy_light")(LightLUT)
    try:
        assert "toy_light" in list_parametrizations()
        assert isinstance(setup_parametrization("toy_light", lut_rank=2), LightLUT)
        with pytest.raises(ValueError, match="already registered"):
            register_parametrization("toy_light")(LightLUT)
    finally:
        PARAMETRIZATIONS.unregister("toy_light")
    with pytest.raises(KeyError, match="valid names: .*light"):
        setup_parametrization("toy_light", lut_rank=2)


def test_temperature_schedule_dispatches_through_the_registry():
    from bitlogic.schedules import TEMPERATURE_SCHEDULES, TemperatureSchedule

    TEMPERATURE_SCHEDULES.register("halfway", lambda start, end, frac: (start + end) / 2)
    try:
        assert TemperatureSchedule("halfway", 1.0, 3.0, steps=5)(0) == 2.0
    finally:
        TEMPERATURE_SCHEDULES.unregister("halfway")
    with pytest.raises(ValueError, match="kind must be one of .*'linear'.*got 'halfway'"):
        TemperatureSchedule("halfway")


def test_quantize_model_reads_the_layer_registry():
    from torch import nn

    from bitlogic.ternary import LAYERS, BitLinear, quantize_model

    LAYERS.register("toy_ternary", BitLinear)
    try:
        model = nn.Sequential(nn.Linear(4, 3))
        assert quantize_model(model, "toy_ternary").swapped == ("0",)
        assert isinstance(model[0], BitLinear)
    finally:
        LAYERS.unregister("toy_ternary")
    with pytest.raises(ValueError, match="layer must be one of"):
        quantize_model(nn.Sequential(nn.Linear(4, 3)), "toy_ternary")


def test_synth_script_reads_the_flow_registry():
    from bitlogic.backends.synth import FLOWS, SynthFlow, render_synth_script

    FLOWS.register("toy_flow", SynthFlow("proc\nabc -lut 4"))
    try:
        assert "abc -lut 4" in render_synth_script("toy_flow")
    finally:
        FLOWS.unregister("toy_flow")
    with pytest.raises(ValueError, match="valid names: ecp5, lut6, lut6-whole, xilinx"):
        render_synth_script("toy_flow")
