"""Fixtures of the backend tests: required tools and the compiled packed engine.

A missing tool skips the tests that need it, with the reason, except under
``CI=true`` where it fails them: CI must exercise every backend.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bitlogic import _native
from bitlogic.backends import packed_native

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """Path of command-line tool ``name``; skip without it locally, fail under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name!r} is not on PATH"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: every backend tool is required)")
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
    if _native.native_disabled():
        pytest.skip("BITLOGIC_NO_NATIVE is set")
    lib = packed_native.load_engine()
    if lib is None:
        if IN_CI:
            pytest.fail("the packed engine did not build (CI=true: required)")
        pytest.skip("the packed engine did not build (no C compiler?)")
    return lib
