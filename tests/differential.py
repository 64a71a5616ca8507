"""The differential-testing helpers shared by the whole test tree.

One place for: random netlists and inputs (plain functions and a hypothesis
strategy), the tie-breaking netlist, the runners of the emitted C and the
simulated Verilog, and :func:`assert_backends_agree`, which runs one netlist (or
an eval-mode model) through every backend and asserts identical results.

Import it as ``from differential import ...``: without ``__init__.py`` files
pytest's "prepend" import mode puts ``tests/`` (the root conftest's folder) on
``sys.path``. Kernel-specific tolerances stay in ``tests/kernels/kernel_checks.py``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import torch
from hypothesis import strategies as st
from torch import nn

from bitlogic.backends import PackedLogicNet, emit_c, emit_verilog
from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer, evaluate_netlist
from bitlogic.netlist.reference import predict_from_counts

BATCH_SIZES = (1, 63, 64, 65, 1000)


def random_layer(rng: np.random.Generator, in_width: int, n_out: int, rank: int) -> NetlistLayer:
    """Random connections and truth tables; some LUTs constant or copying input 0."""
    indices = rng.integers(0, in_width, size=(n_out, rank)).astype(np.int32)
    luts = (rng.random((n_out, 2**rank)) < rng.uniform(0.2, 0.8)).astype(np.uint8)
    kind = rng.random(n_out)
    luts[kind < 0.08] = luts[kind < 0.08][:, :1]  # constants
    luts[kind > 0.92] = (np.arange(2**rank) >> (rank - 1)) & 1  # depend on input 0 only
    return NetlistLayer(indices, luts)


def random_netlist(
    seed: int,
    widths: list[int],
    ranks: list[int],
    num_classes: int,
    num_inputs: int = 16,
    encoding: tuple[int, int] | None = None,
    tau: float = 1.7,
) -> LogicNetlist:
    """A random valid netlist.

    Args:
        seed: random seed.
        widths, ranks: per layer; the last width must divide by ``num_classes``.
        num_classes: GroupSum classes.
        num_inputs: input bits without an encoding.
        encoding: ``(num_features, num_thresholds)`` to add a thermometer.
        tau: GroupSum temperature.
    """
    rng = np.random.default_rng(seed)
    enc = None
    if encoding is not None:
        features, thresholds = encoding
        # a coarse grid makes equal thresholds and inputs equal to a threshold likely
        grid = np.round(rng.normal(size=(features, thresholds)), 1).astype(np.float32)
        enc = InputEncoding(np.sort(grid, axis=1))
        num_inputs = features * thresholds
    layers, width = [], num_inputs
    for n_out, rank in zip(widths, ranks, strict=True):
        layers.append(random_layer(rng, width, n_out, rank))
        width = n_out
    return LogicNetlist(num_inputs, layers, num_classes, tau, enc, {"case": f"seed {seed}"})


def random_inputs(netlist: LogicNetlist, batch: int, seed: int = 0) -> np.ndarray:
    """Features on the thresholds' grid (plus NaN/inf) with an encoding, else bool bits."""
    rng = np.random.default_rng(seed)
    if netlist.encoding is None:
        return rng.random((batch, netlist.num_inputs)) < 0.5
    x = np.round(rng.normal(size=(batch, netlist.encoding.num_features)), 1).astype(np.float32)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=np.float32)
    mask = rng.random(x.shape) < 0.02
    x[mask] = rng.choice(specials, size=int(mask.sum()))
    return x


@st.composite
def netlists(draw: st.DrawFn, max_layers: int = 4, max_width: int = 40) -> LogicNetlist:
    """Hypothesis strategy: 1..max_layers layers of ranks 1..6 (mostly 2/4/6), with or
    without an encoding, 1..10 classes."""
    num_layers = draw(st.integers(1, max_layers))
    rank = st.sampled_from([2, 4, 6, 2, 4, 6, 1, 3, 5])
    ranks = [draw(rank) for _ in range(num_layers)]
    num_classes = draw(st.integers(1, 10))
    group = draw(st.integers(1, 6))
    widths = [draw(st.integers(1, max_width)) for _ in range(num_layers - 1)]
    widths.append(num_classes * group)
    encoding = draw(st.none() | st.tuples(st.integers(1, 8), st.integers(1, 4)))
    return random_netlist(
        seed=draw(st.integers(0, 2**32 - 1)),
        widths=widths,
        ranks=ranks,
        num_classes=num_classes,
        num_inputs=draw(st.integers(1, 70)),
        encoding=encoding,
        tau=draw(st.sampled_from([1.0, 0.3, 2.5, 10.0])),
    )


def tie_netlist() -> LogicNetlist:
    """Two inputs (a, b), four classes of two LUTs built so that counts tie on purpose.

    Class counts for inputs (a, b): c0 = 0, c1 = a, c2 = a, c3 = a & b + b. So
    (1, 0) ties classes 1 and 2 (expect 1), (0, 0) ties all four (expect 0),
    (1, 1) gives counts (0, 1, 1, 2) (expect 3), (0, 1) gives (0, 0, 0, 1).
    """
    zero, ident_a = [0, 0, 0, 0], [0, 0, 1, 1]
    and_ab, ident_b = [0, 0, 0, 1], [0, 1, 0, 1]
    luts = [zero, zero, ident_a, zero, ident_a, zero, and_ab, ident_b]
    indices = np.tile(np.array([[0, 1]], dtype=np.int32), (8, 1))
    layer = NetlistLayer(indices, np.array(luts, dtype=np.uint8))
    return LogicNetlist(2, [layer], num_classes=4, tau=0.5)


TIE_INPUTS = np.array([[1, 0], [0, 0], [1, 1], [0, 1]], dtype=bool)
TIE_PREDICTIONS = np.array([1, 0, 3, 3])


def sweep_netlist(seed: int, max_width: int, max_group: int, max_inputs: int,
                  max_encoding: tuple[int, int]) -> LogicNetlist:
    """A random netlist of 1-4 layers (ranks 2/4/6) and 1-10 classes drawn from ``seed``.

    Odd seeds take bit inputs (up to ``max_inputs``), even ones an encoding of up
    to ``max_encoding = (features, thresholds)``.
    """
    rng = np.random.default_rng(seed)
    layers, k = int(rng.integers(1, 5)), int(rng.integers(1, 11))
    features, thresholds = max_encoding
    return random_netlist(
        seed,
        widths=[int(rng.integers(1, max_width)) for _ in range(layers - 1)]
        + [k * int(rng.integers(1, max_group))],
        ranks=[int(rng.choice([2, 4, 6])) for _ in range(layers)],
        num_classes=k,
        num_inputs=int(rng.integers(1, max_inputs)),
        encoding=None if seed % 2 else (int(rng.integers(1, features)),
                                        int(rng.integers(1, thresholds))),
    )


# -- the emitted C ----------------------------------------------------------------------------

C_DRIVER = Path(__file__).resolve().parent / "backends" / "c_driver.c"
CFLAGS = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
# How the emitted C is built: the GCC/clang vector path for the default target
# (SSE2 on x86-64), the plain uint64_t path, and the vector path for this CPU.
C_BUILDS = {"vector": [], "scalar": ["-DBITLOGIC_SCALAR"], "native": ["-march=native"]}


def run_c(cc: str, netlist: LogicNetlist, x: np.ndarray, work: Path,
          build: str = "vector") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Emit, compile (``-Wall -Wextra -pedantic -Werror``, flags of ``C_BUILDS[build]``)
    and run; returns (counts, pred, scores) of the per-sample API.

    Also checks that ``bitlogic_net_eval_batch`` (``_eval_batch_features`` with an
    encoding), on the whole batch and on chunks of 37 rows, gives the same counts.
    """
    emit_c(netlist, work, simplify=False)
    exe = work / f"driver-{build}"
    subprocess.run([cc, *CFLAGS, *C_BUILDS[build], "-I", str(work), str(C_DRIVER),
                    str(work / "bitlogic_net.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    data = work / "inputs.bin"
    rows = x.astype(np.float32 if netlist.encoding is not None else np.uint8)
    data.write_bytes(np.int64(len(x)).tobytes() + np.ascontiguousarray(rows).tobytes())
    out = subprocess.run([str(exe), str(data)], check=True, capture_output=True, text=True).stdout
    isa, *lines = out.splitlines()
    assert (isa == "scalar") == (build == "scalar"), f"build {build} reports ISA {isa}"
    k = netlist.num_classes
    fields = [line.split() for line in lines]
    counts = np.array([[int(v) for v in f[:k]] for f in fields], dtype=np.int64).reshape(-1, k)
    pred = np.array([int(f[k]) for f in fields], dtype=np.int64)
    scores = np.array([[float.fromhex(v) for v in f[k + 1 : 2 * k + 1]] for f in fields])
    batch = np.array([[int(v) for v in f[2 * k + 1 :]] for f in fields], dtype=np.int64)
    batch = batch.reshape(len(fields), 2, k)
    np.testing.assert_array_equal(batch[:, 0], counts, err_msg=f"{build}: eval_batch, whole")
    np.testing.assert_array_equal(batch[:, 1], counts, err_msg=f"{build}: eval_batch, chunks")
    return counts, pred, scores.astype(np.float32).reshape(-1, k)


# -- the simulated Verilog --------------------------------------------------------------------


def simulate(iverilog: str, work: Path, design: str = "bitlogic_net.v", extra=(),
             name: str = "bitlogic_net") -> str:
    """Compile design ``name``'s testbench with ``design`` in ``work``; return what the
    simulation printed. A non-zero exit (the testbench's ``$fatal``) fails with the output."""
    subprocess.run(
        [iverilog, "-g2012", "-o", "sim", f"{name}_tb.v", design, *extra],
        cwd=work, check=True, capture_output=True, text=True,
    )
    proc = subprocess.run(["vvp", "-n", "sim"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, f"vvp exited {proc.returncode}:\n{proc.stdout[-2000:]}"
    return proc.stdout


def assert_passed(output: str) -> None:
    """The testbench's last line is ``PASS`` and no vector failed."""
    lines = output.strip().splitlines()
    assert lines and lines[-1] == "PASS", output[-2000:]
    assert not any(line.startswith("FAIL") for line in lines), output[-2000:]


# -- every backend at once --------------------------------------------------------------------


def assert_backends_agree(
    source: LogicNetlist | nn.Module,
    x: np.ndarray | torch.Tensor,
    *,
    seed: int | str,
    input_shape: tuple[int, ...] | None = None,
    netlist: LogicNetlist | None = None,
    native: bool = True,
    cc: str | None = None,
    iverilog: str | None = None,
    work: Path | None = None,
    pipeline: bool = False,
    c_builds: tuple[str, ...] = ("vector",),
) -> LogicNetlist:
    """Run ``x`` through every backend and assert identical scores, counts and predictions.

    The backends: the eval-mode model (when ``source`` is a model; frozen with
    ``to_netlist(source, input_shape=input_shape)`` unless ``netlist`` is given), the reference
    ``evaluate_netlist``, the same on ``netlist.simplify()`` (simplified netlists
    are what every backend runs by default), ``PackedLogicNet`` NumPy and native
    (when ``native`` and the kernel builds; ask for the ``native_engine`` fixture
    to require it), one engine with ``simplify=False``, the
    emitted C (when ``cc`` is given; once per ``c_builds`` entry of ``C_BUILDS``,
    per-sample and batch entry points) and Icarus Verilog (when ``iverilog`` is
    given; the testbench replays the packed engine, tied to the reference here).
    C and Verilog build in ``work``. Every failure message names ``seed``.

    Args:
        source: a netlist, or an eval-mode model ending in GroupSum.
        x: a batch; for a model, shaped as the model's input (flattened for the
            netlist backends); torch inputs must give torch outputs from the engines.
        seed: what reproduces the case, printed on failure.

    Returns:
        The netlist that was checked.
    """
    from bitlogic.layers import to_netlist  # torch-free callers need not import the layers

    case = f"seed {seed}"
    flat = (x.flatten(1).numpy() if isinstance(x, torch.Tensor) else np.asarray(x).reshape(
        len(x), -1))
    if isinstance(source, LogicNetlist):
        netlist = source
    elif netlist is None:
        netlist = to_netlist(source, input_shape=input_shape)
    scores, counts = evaluate_netlist(netlist, flat)
    pred = predict_from_counts(counts)
    if not isinstance(source, LogicNetlist):
        with torch.no_grad():
            expected = source(x if isinstance(x, torch.Tensor) else torch.from_numpy(flat))
        np.testing.assert_array_equal(scores, expected.numpy(),
                                      err_msg=f"{case}: evaluate_netlist != model.eval()")
        # argmax takes the first maximum: ties go to the lower class
        np.testing.assert_array_equal(pred, np.argmax(expected.numpy(), axis=1),
                                      err_msg=f"{case}: predictions != argmax of model.eval()")
    simplified, _ = netlist.simplify()
    np.testing.assert_array_equal(evaluate_netlist(simplified, flat)[1], counts,
                                  err_msg=f"{case}: evaluate_netlist(netlist.simplify()) counts")
    engines = [PackedLogicNet(netlist, use_native=False)]
    if native:  # the compiled kernel when it builds (tests that need it ask for native_engine)
        auto = PackedLogicNet(netlist)
        engines += [auto] if auto.backend != "numpy" else []
    # the netlist as given, unsimplified, on the fastest engine at hand
    engines.append(PackedLogicNet(netlist, use_native=None if native else False, simplify=False))
    engine_input = x.flatten(1) if isinstance(x, torch.Tensor) else flat
    for engine in engines:
        what = f"{case}: PackedLogicNet[{engine.backend}]"
        got = engine(engine_input)
        if isinstance(x, torch.Tensor):
            assert isinstance(got, torch.Tensor) and got.dtype == torch.float32, what
            got = got.numpy()
        np.testing.assert_array_equal(got, scores, err_msg=f"{what} scores")
        np.testing.assert_array_equal(np.asarray(engine.counts(engine_input)), counts,
                                      err_msg=f"{what} counts")
        np.testing.assert_array_equal(np.asarray(engine.predict(engine_input)), pred,
                                      err_msg=f"{what} predictions")
    if cc is not None or iverilog is not None:
        assert work is not None, "C and Verilog need a work folder"
    for build in c_builds if cc is not None else ():
        c_counts, c_pred, c_scores = run_c(cc, netlist, flat, work / "c", build)
        what = f"{case}: C ({build} build)"
        np.testing.assert_array_equal(c_counts, counts, err_msg=f"{what} counts")
        np.testing.assert_array_equal(c_pred, pred, err_msg=f"{what} predictions")
        np.testing.assert_array_equal(c_scores, scores, err_msg=f"{what} scores")
    if iverilog is not None:
        emit_verilog(netlist, work / "v", pipeline=pipeline, test_inputs=flat)
        output = simulate(iverilog, work / "v")
        try:
            assert_passed(output)
        except AssertionError as err:
            raise AssertionError(f"{case}: Icarus simulation failed\n{err}") from None
    return netlist
