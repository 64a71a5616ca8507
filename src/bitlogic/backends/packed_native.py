"""Declaration of the compiled packed engine (``csrc/packed/``) on :class:`bitlogic.native.Library`.

The kernel is generic: it is compiled once per machine and reads a
:class:`PackedProgram` through the ``bl_net`` struct (mirrored here and
checked against the library on load), so switching models costs no compile.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from bitlogic import native
from bitlogic.backends.packed_program import PackedProgram

LIBRARY_NAME = "bitlogic_packed"
SOURCES = ["packed/packed.c", "packed/packed_input.c", "packed/packed_layers.c",
           "packed/packed_w4.c", "packed/packed_abi.c"]
BLOCK_WORDS = (8, 4)  # the two builds in the library (see csrc/packed/packed.h)
ABI_VERSION = 2  # BL_PACKED_ABI_VERSION

# Input kinds understood by bl_run (enum in packed.h).
X_U8_BITS, X_F32_BITS, X_F32_FEATURES = 0, 1, 2

_p = ctypes.c_void_p


class _BlNet(ctypes.Structure):
    """Mirror of ``bl_net`` in ``csrc/packed/packed.h``."""

    _fields_ = [
        ("num_inputs", ctypes.c_int32),
        ("num_layers", ctypes.c_int32),
        ("num_classes", ctypes.c_int32),
        ("group_size", ctypes.c_int32),
        ("max_width", ctypes.c_int32),
        ("num_features", ctypes.c_int32),
        ("tau", ctypes.c_float),
        ("thresholds", _p),
        ("bit_feature", _p),
        ("rank", _p),
        ("width", _p),
        ("idx_off", _p),
        ("idx", _p),
        ("lut_off", _p),
        ("tt", _p),
        ("run_off", _p),
        ("runs", _p),
    ]


_RUN = (ctypes.c_int64, [ctypes.POINTER(_BlNet), _p, ctypes.c_int32, ctypes.c_int64,
                         _p, _p, _p, ctypes.c_int32])
_RUN_BITS = (ctypes.c_int64, [ctypes.POINTER(_BlNet), _p, ctypes.c_int32, ctypes.c_int64,
                              _p, ctypes.c_int64, _p, ctypes.c_int32])
_SIGNATURES = {
    **{f"bl_run_w{words}": _RUN for words in BLOCK_WORDS},
    **{f"bl_run_bits_w{words}": _RUN_BITS for words in BLOCK_WORDS},
    **{f"bl_block_samples_w{words}": (ctypes.c_int32, []) for words in BLOCK_WORDS},
    "bl_isa": (ctypes.c_char_p, []),
}
ABI = {
    "BL_PACKED_ABI_VERSION": ABI_VERSION,
    **native.struct_abi("bl_net", _BlNet),
    "BL_X_U8_BITS": X_U8_BITS,
    "BL_X_F32_BITS": X_F32_BITS,
    "BL_X_F32_FEATURES": X_F32_FEATURES,
}

LIBRARY = native.Library(LIBRARY_NAME, SOURCES, _SIGNATURES, ABI)


def load_engine() -> ctypes.CDLL | None:
    """The compiled engine with its signatures set, or ``None`` when unavailable."""
    return LIBRARY.load()


def l2_cache_bytes() -> int:
    """Per-core L2 size from sysfs; 1 MiB when it cannot be read."""
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            if (index / "level").read_text().strip() == "2":
                size = (index / "size").read_text().strip().upper()
                scale = {"K": 1 << 10, "M": 1 << 20}.get(size[-1], 1)
                return int(size.rstrip("KM")) * scale
        except (OSError, ValueError):
            continue
    return 1 << 20


def choose_block_words(max_width: int, l2_bytes: int) -> int:
    """8-word blocks when two levels of activations fill at most half of L2, else 4.

    Measured (single thread, 6 rank-2 layers, 2 MiB L2): at 8000 wide (1 MiB
    of activations) 8 words are 5-10% faster; at 16000 wide (2 MiB) 4 words
    are 23% faster, the 8-word build spilling to L3.
    """
    return 8 if 2 * max_width * 8 * 8 <= l2_bytes // 2 else 4


class NativeNet:
    """A :class:`PackedProgram` bound to the compiled engine.

    Keeps references to every array the C struct points into, so they live
    as long as the struct does.
    """

    def __init__(self, lib: ctypes.CDLL, program: PackedProgram, block_words: int) -> None:
        if block_words not in BLOCK_WORDS:
            raise ValueError(f"block_words must be one of {BLOCK_WORDS}, got {block_words}")
        self.lib = lib
        self.program = program
        self.block_words = block_words
        self._run = getattr(lib, f"bl_run_w{block_words}")
        self._run_bits = getattr(lib, f"bl_run_bits_w{block_words}")
        net = program.netlist
        enc = net.encoding
        self._struct = _BlNet(
            num_inputs=net.num_inputs,
            num_layers=len(net.layers),
            num_classes=net.num_classes,
            group_size=net.group_size,
            max_width=program.max_width,
            num_features=enc.num_features if enc is not None else 0,
            tau=float(np.float32(net.tau)),
            thresholds=program.thresholds.ctypes.data,
            bit_feature=program.bit_feature.ctypes.data,
            rank=program.ranks.ctypes.data,
            width=program.widths.ctypes.data,
            idx_off=program.idx_off.ctypes.data,
            idx=program.idx.ctypes.data,
            lut_off=program.lut_off.ctypes.data,
            tt=program.tt.ctypes.data,
            run_off=program.run_off.ctypes.data,
            runs=program.runs.ctypes.data,
        )

    def run(
        self,
        x: np.ndarray,
        kind: int,
        num_threads: int,
        *,
        counts: bool = False,
        scores: bool = False,
        pred: bool = False,
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """Evaluate a C-contiguous batch, producing only the outputs asked for.

        Args:
            x: uint8 or float32 ``(batch, columns)``, C-contiguous.
            kind: one of ``X_U8_BITS``, ``X_F32_BITS``, ``X_F32_FEATURES``.
            num_threads: OpenMP threads (<= 0: all).
            counts, scores, pred: which outputs to compute.

        Returns:
            ``(counts int32 (batch, k), scores float32 (batch, k), pred int64
            (batch,))``, each ``None`` unless asked for.

        Raises:
            ValueError: a bit input holds a value other than 0/1 (named with
                its position).
        """
        batch, k = x.shape[0], self.program.netlist.num_classes
        out_counts = np.empty((batch, k), dtype=np.int32) if counts else None
        out_scores = np.empty((batch, k), dtype=np.float32) if scores else None
        out_pred = np.empty(batch, dtype=np.int64) if pred else None
        bad = self._run(
            ctypes.byref(self._struct),
            x.ctypes.data,
            kind,
            batch,
            *(a.ctypes.data if a is not None else None for a in (out_counts, out_scores, out_pred)),
            num_threads,
        )
        self._check(bad, x)
        return out_counts, out_scores, out_pred

    def run_bits(self, x: np.ndarray, kind: int, order: np.ndarray, num_threads: int
                 ) -> np.ndarray:
        """Outputs ``order`` (int32, in range) of the last layer, float32 ``(batch, len(order))``.

        Raises:
            ValueError: as :meth:`run`.
        """
        out = np.empty((x.shape[0], order.shape[0]), dtype=np.float32)
        bad = self._run_bits(ctypes.byref(self._struct), x.ctypes.data, kind, x.shape[0],
                             order.ctypes.data, order.shape[0], out.ctypes.data, num_threads)
        self._check(bad, x)
        return out

    @staticmethod
    def _check(bad: int, x: np.ndarray) -> None:
        if bad == -2:
            raise MemoryError("packed engine could not allocate its per-thread buffers")
        if bad >= 0:
            row, col = divmod(int(bad), x.shape[1])
            raise ValueError(
                "x must be binary (0/1) for a netlist without input encoding; "
                f"got {x[row, col]!r} at [{row}, {col}]"
            )
