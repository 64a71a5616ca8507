"""Fixtures for the whole tree: the shared-data location, tool requirements, the packed engine.

Missing tools or data skip the tests that need them, with the reason, except
under ``CI=true`` where they fail them: CI must exercise every backend.
The differential helpers live in ``tests/differential.py``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from bitlogic import native
from bitlogic.backends import packed_native

# CI clones the repo next to shared/, so locate it relative to this file.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_path(path: Path, what: str) -> Path:
    """Skip locally when ``path`` is missing; fail under CI=true."""
    if not path.exists():
        message = f"{what} not found at {path}"
        if IN_CI:
            pytest.fail(message + " (CI=true: required)")
        pytest.skip(message)
    return path


def require_tool(name: str) -> str:
    """Skip locally when a command-line tool is missing; fail under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"tool {name!r} not on PATH"
        if IN_CI:
            pytest.fail(message + " (CI=true: required)")
        pytest.skip(message)
    return path


@pytest.fixture
def cc() -> str:
    """The system C compiler."""
    return require_tool(os.environ.get("CC", "cc"))


@pytest.fixture
def iverilog() -> str:
    """Icarus Verilog (``vvp`` comes with it)."""
    require_tool("vvp")
    return require_tool("iverilog")


@pytest.fixture
def verilator() -> str:
    """Verilator, for lint."""
    return require_tool("verilator")


@pytest.fixture
def yosys() -> str:
    """yosys, for synthesis reports."""
    return require_tool("yosys")


@pytest.fixture(scope="session")
def native_engine():
    """The compiled packed engine; skipped when disabled on purpose or (locally) unbuildable."""
    if native.native_disabled():
        pytest.skip("BITLOGIC_NO_NATIVE is set")
    lib = packed_native.load_engine()
    if lib is None:
        if IN_CI:
            pytest.fail("the packed engine did not build (CI=true: required)")
        pytest.skip("the packed engine did not build (no C compiler?)")
    return lib


@pytest.fixture(scope="module")
def shared() -> Path:
    """The shared real datasets; skipped when absent, except on CI where it must exist."""
    return require_path(SHARED_DATA, "shared datasets")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
