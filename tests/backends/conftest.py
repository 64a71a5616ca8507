"""The compiled packed engine for the backend tests (tool fixtures: ``tests/conftest.py``).

A missing engine skips the tests that need it, with the reason, except under
``CI=true`` where it fails them: CI must exercise every backend.
"""

from __future__ import annotations

import os

import pytest

from bitlogic import native
from bitlogic.backends import packed_native


@pytest.fixture(scope="session")
def native_engine():
    """The compiled packed engine; skipped when disabled on purpose or (locally) unbuildable."""
    if native.native_disabled():
        pytest.skip("BITLOGIC_NO_NATIVE is set")
    lib = packed_native.load_engine()
    if lib is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the packed engine did not build (CI=true: required)")
        pytest.skip("the packed engine did not build (no C compiler?)")
    return lib
