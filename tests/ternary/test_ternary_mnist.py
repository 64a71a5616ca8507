"""Slow: an all-BitLinear MLP reaches >= 97% on MNIST and its packed copy agrees exactly."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ternary_mnist.py"


def load_script():
    spec = importlib.util.spec_from_file_location("ternary_mnist_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_bitlinear_mlp_reaches_97_percent_on_mnist():
    bench = load_script()
    data_dir = Path(os.environ.get("BITLOGIC_MNIST_DIR", bench.DATA_DIR))
    missing = [name for name in bench.FILES.values() if not (data_dir / name).exists()]
    if missing:
        message = f"MNIST files {missing} not found in {data_dir}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = bench.train(bench.load_mnist(data_dir), epochs=3, hidden=512, log=lambda _: None)
    assert result["test_acc"] >= 0.97, result
    assert result["packed_bit_exact"], result
    assert result["packed_test_acc"] == result["test_acc"]
