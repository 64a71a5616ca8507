"""``PackedLogicNet``: bit-exact, bit-packed CPU inference of a frozen netlist.

Design, chosen by measurement on the 2-core AVX-512 development VM (figures in
``benchmarks/results/packed_inference.md``):

* **Samples along words.** A signal of 512 samples is one 64-byte vector
  (8 x uint64, one zmm; GCC vector extensions, so AVX2 or scalar code where
  AVX-512 is missing). Every LUT is evaluated once per vector. The batch is
  cut into 512-sample blocks so a level of activations is ``width * 64``
  bytes (8000 LUTs: 512 KiB) and stays in L2 while the next layer gathers
  from it at random; when two levels would fill more than half of L2 a
  256-sample build is used instead (at 16000 wide on a 2 MiB L2: 23% faster).
* **A generic compiled kernel** (``csrc/packed*.c``), built once per machine
  with ``-O3 -march=native -fopenmp`` and shared by every model; setup is a
  NumPy layout pass (:mod:`bitlogic.backends.packed_program`), ~10-30 ms for
  48K LUTs.
* **Rank 1/2 LUTs sorted by function** (then by first input) at setup and
  evaluated in runs of one fixed expression, one ``vpternlog`` per LUT, no
  per-LUT branch or table. Such a layer is bound by L2 traffic (two operand
  lines in, one line out), about 2 ns per 8000-wide layer and sample.
* **Ranks 3..6 by Shannon mux trees** whose bottom depends on the rank:
  constant masks for 3-4, a lookup among the 16 functions of the last two
  inputs for 5-6 (rank 6: 3.8x faster than masks).
* **GroupSum** by a Harley-Seal carry-save counter over each group's vectors
  (two ``vpternlog`` per LUT output), then one conversion of the count
  planes to integers per block; argmax vectorised across samples.
* **Input** rows are read front to back with software prefetch (rows cross
  4 KiB pages where the hardware prefetcher stops), turned into 64-bit masks
  (``vptestmb``) and transposed 64x64 with vector shuffles.
* **Threads**: OpenMP over blocks with per-thread buffers; the tail block is
  zero-padded and only its valid samples are written, so any batch size is
  exact.

Without a C compiler the same algorithm runs vectorised in NumPy
(:mod:`bitlogic.backends.packed_numpy`), bit-identical and much slower.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from bitlogic.backends import packed_native
from bitlogic.backends.packed_numpy import last_level_numpy, run_numpy
from bitlogic.backends.packed_program import PackedProgram, build_program
from bitlogic.netlist.ir import LogicNetlist
from bitlogic.netlist.reference import (
    as_input_bits,
    encode_inputs,
    predict_from_counts,
    scores_from_counts,
)


def default_num_threads() -> int:
    """All cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class PackedLogicNet:
    """Bit-packed inference engine for a :class:`LogicNetlist`.

    Args:
        netlist_or_model: a ``LogicNetlist``, or a trained model that
            :func:`bitlogic.layers.to_netlist` can freeze.
        num_threads: OpenMP threads; ``None`` uses every core available.
        use_native: ``None`` picks the compiled kernel when it builds and the
            NumPy path otherwise; ``True`` requires the kernel; ``False``
            forces NumPy.
        block_samples: samples per block of the compiled kernel, 512 or 256;
            ``None`` takes 512 when two levels of activations fit in half the
            L2 cache, else 256.
        simplify: run :meth:`LogicNetlist.simplify` first (same results, less
            work); ``self.netlist`` stays the netlist given.

    Inputs ``x`` are ``(batch, netlist.input_width)``: float features when the
    netlist has an encoding (raw features when the encoding has a scaling, as
    the model's data loader read them), else bits (bool, or numbers that are
    exactly 0/1).
    Outputs are torch tensors when ``x`` is a torch tensor, NumPy arrays otherwise.

    Example:
        >>> import numpy as np
        >>> from bitlogic.netlist import LogicNetlist, NetlistLayer
        >>> xor = NetlistLayer(np.array([[0, 1]], np.int32), np.array([[0, 1, 1, 0]], np.uint8))
        >>> engine = PackedLogicNet(LogicNetlist(2, [xor], num_classes=1, tau=1.0))
        >>> engine(np.array([[0, 1], [1, 1]], dtype=bool)).tolist()
        [[1.0], [0.0]]
    """

    def __init__(
        self,
        netlist_or_model: object,
        num_threads: int | None = None,
        use_native: bool | None = None,
        block_samples: int | None = None,
        simplify: bool = True,
    ) -> None:
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ValueError(f"num_threads must be a positive int or None, got {num_threads!r}")
        if block_samples is not None and block_samples not in (512, 256):
            raise ValueError(f"block_samples must be 512, 256 or None, got {block_samples!r}")
        self.netlist = _as_netlist(netlist_or_model)
        self.num_threads = num_threads or default_num_threads()
        self.program: PackedProgram = build_program(
            self.netlist.simplify()[0] if simplify else self.netlist)
        lib = packed_native.load_engine() if use_native is not False else None
        if use_native and lib is None:
            raise RuntimeError("the compiled packed engine is unavailable (see the warning above)")
        self._native = None
        if lib is not None:
            words = (block_samples or 0) // 64 or packed_native.choose_block_words(
                self.program.max_width, packed_native.l2_cache_bytes()
            )
            self._native = packed_native.NativeNet(lib, self.program, words)

    @property
    def backend(self) -> str:
        """``"native-<isa>-<samples per block>"`` (e.g. ``native-avx512-512``) or ``"numpy"``."""
        if self._native is None:
            return "numpy"
        isa = self._native.lib.bl_isa().decode()
        return f"native-{isa}-{64 * self._native.block_words}"

    def __call__(self, x: object) -> object:
        """Class scores ``float32(counts) / float32(tau)``, shape ``(batch, num_classes)``."""
        return _like(x, self._evaluate(x, "scores"))

    def predict(self, x: object) -> object:
        """Class indices, int64 ``(batch,)``: argmax of the counts, ties to the lower class."""
        return _like(x, self._evaluate(x, "pred"))

    def counts(self, x: object) -> object:
        """GroupSum counts, int32 ``(batch, num_classes)`` (what hardware computes)."""
        return _like(x, self._evaluate(x, "counts"))

    def last_bits(self, x: object, order: object = None) -> object:
        """The last LUT layer's outputs (what GroupSum counts), float32 0/1.

        Args:
            x: as for :meth:`__call__`.
            order: int indices into the last layer's outputs, ``(n,)``;
                ``None``: all of them, in netlist order.

        Returns:
            ``(batch, n)``: column ``i`` is output ``order[i]``.

        Raises:
            ValueError: ``x`` of the wrong shape, or ``order`` not 1-D or out of range.
        """
        arr = self._checked(x)
        width = self.netlist.layers[-1].n_out
        idx = np.arange(width) if order is None else np.asarray(_to_numpy(order))
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer) or (
                idx.size and (idx.min() < 0 or idx.max() >= width)):
            raise ValueError(f"order must be 1-D integers in [0, {width}), got "
                             f"{idx.dtype} {idx.shape}")
        if self._native is not None:
            slot = np.empty(width, dtype=np.int64)  # the engine stores the last layer permuted
            slot[self.program.orders[-1]] = np.arange(width)
            data, kind = self._native_input(arr)
            return _like(x, self._native.run_bits(data, kind, slot[idx].astype(np.int32),
                                                  self.num_threads))
        bits = last_level_numpy(self.program, encode_inputs(self.netlist, arr))
        return _like(x, bits[:, idx].astype(np.float32))

    def _checked(self, x: object) -> np.ndarray:
        arr = _to_numpy(x)
        width = self.netlist.input_width
        if arr.ndim != 2 or arr.shape[1] != width:
            raise ValueError(f"x must have shape (batch, {width}), got {tuple(arr.shape)}")
        return arr

    def _evaluate(self, x: object, output: str) -> np.ndarray:
        arr = self._checked(x)
        if self._native is not None:
            data, kind = self._native_input(arr)
            counts, scores, pred = self._native.run(
                data, kind, self.num_threads, **{output: True}
            )
            return {"counts": counts, "scores": scores, "pred": pred}[output]
        counts = run_numpy(self.program, encode_inputs(self.netlist, arr))
        if output == "scores":
            return scores_from_counts(counts, self.netlist.tau)
        return predict_from_counts(counts) if output == "pred" else counts

    def _native_input(self, arr: np.ndarray) -> tuple[np.ndarray, int]:
        if self.netlist.encoding is not None:
            if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
                raise ValueError(f"x must be numeric features, got dtype {arr.dtype}")
            return np.ascontiguousarray(arr, dtype=np.float32), packed_native.X_F32_FEATURES
        if arr.dtype in (np.bool_, np.uint8):  # the kernel checks uint8 values itself
            return np.ascontiguousarray(arr).view(np.uint8), packed_native.X_U8_BITS
        if arr.dtype == np.float32:
            return np.ascontiguousarray(arr), packed_native.X_F32_BITS
        bits = as_input_bits(arr, self.netlist.num_inputs)  # raises on non-binary values
        return np.ascontiguousarray(bits).view(np.uint8), packed_native.X_U8_BITS


def _as_netlist(obj: object) -> LogicNetlist:
    if isinstance(obj, LogicNetlist):
        return obj
    nn = sys.modules.get("torch.nn")  # a model can only exist if torch was imported
    if nn is None or not isinstance(obj, nn.Module):
        raise TypeError(
            f"PackedLogicNet needs a LogicNetlist or a trained torch model to freeze, "
            f"got {type(obj).__name__}"
        )
    # Freezing needs the layers; reached only when the caller already holds a model, so
    # the backends themselves never import torch or bitlogic.layers.
    from bitlogic.netlist import to_netlist

    return to_netlist(obj)


def _to_numpy(x: object) -> np.ndarray:
    if _is_tensor(x):
        x = x.detach().cpu()  # type: ignore[attr-defined]
        if x.dtype == _torch().bfloat16:  # NumPy has no bfloat16; float32 holds it exactly
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def _is_tensor(x: object) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _like(x: object, result: np.ndarray) -> object:
    if _is_tensor(x):
        return _torch().from_numpy(result)
    return result


def _torch():  # a tensor can only exist if torch was imported; never import it here
    return sys.modules.get("torch")
