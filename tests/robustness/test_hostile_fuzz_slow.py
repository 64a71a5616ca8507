"""The longer fuzz (``-m slow``): many more hypothesis examples over the same contracts.

Byte flips anywhere in a netlist, a checkpoint or an IDX file; random sizes
for the layers; random rows for eval mode. Each example ends in a clear error
naming the file or argument, or in a correct result.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from hostile import clear_error, small_netlist
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitlogic.data import read_idx
from bitlogic.layers import LogicDense
from bitlogic.netlist import LogicNetlist
from bitlogic.train import load_checkpoint, load_preset, train

pytestmark = pytest.mark.slow
FUZZ = settings(max_examples=400, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(offset=st.floats(0.0, 0.9999, allow_subnormal=False), count=st.integers(1, 64),
       cut=st.booleans())
def test_netlist_byte_flips_and_cuts(tmp_path, offset, count, cut):
    path = small_netlist().save(tmp_path / "n.safetensors")
    data = bytearray(path.read_bytes())
    at = int(len(data) * offset)
    if cut:
        data = data[:at]
    else:
        for i in range(at, min(at + count, len(data))):
            data[i] ^= 0xA5
    path.write_bytes(bytes(data))
    try:
        net = LogicNetlist.load(path)
    except ValueError as err:
        assert "n.safetensors" in str(err)
    else:
        assert net.validate() is net  # a flip inside LUT bits can give another valid netlist


@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory):
    run = tmp_path_factory.mktemp("fuzz") / "run"
    train(load_preset("digits-tiny", ["model.widths=[60,60]", "train.num_threads=1",
                                      "train.max_steps_per_epoch=2", "train.epochs=1"]),
          run, verbose=False)
    return run / "checkpoint.safetensors"


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(offset=st.floats(0.0, 0.9999, allow_subnormal=False), count=st.integers(1, 32))
def test_checkpoint_byte_flips(checkpoint_file, tmp_path, offset, count):
    path = tmp_path / "c.safetensors"
    shutil.copy(checkpoint_file, path)
    data = bytearray(path.read_bytes())
    at = int(len(data) * offset)
    for i in range(at, min(at + count, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    try:
        ckpt = load_checkpoint(path)
    except ValueError as err:
        assert "c.safetensors" in str(err)
    else:
        assert all(torch.isfinite(v).all() for v in ckpt.model_state.values()
                   if v.is_floating_point())


@FUZZ
@given(st.binary(max_size=512))
def test_idx_random_bytes(tmp_path, content):
    path = tmp_path / "f.idx"
    path.write_bytes(content)
    try:
        assert isinstance(read_idx(path), np.ndarray)
    except ValueError as err:
        assert "f.idx" in str(err)


@FUZZ
@given(st.one_of(st.integers(-5, 2**26), st.floats(allow_subnormal=False), st.none(),
                 st.text(max_size=3)))
def test_logic_dense_sizes(out_dim):
    valid = isinstance(out_dim, int) and 1 <= out_dim <= 2**24
    if valid and out_dim <= 4096:
        assert LogicDense(16, out_dim).out_dim == out_dim
    elif not valid:
        clear_error(lambda: LogicDense(16, out_dim), (TypeError, ValueError), "out_dim")


@FUZZ
@given(st.lists(st.floats(allow_subnormal=False, width=32), min_size=16, max_size=16))
def test_eval_rows(row):
    net = LogicDense(16, 8).eval()
    x = torch.tensor([row], dtype=torch.float32)
    if all(v in (0.0, 1.0) for v in row):
        assert net(x).shape == (1, 8)
    else:
        clear_error(lambda: net(x), ValueError, r"binary \(0/1\)")
