"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def data_dir(shared: Path) -> Path:
    """The shared datasets (``tests/conftest.py``: skipped when absent, required on CI)."""
    if not (shared / "mnist").is_dir():
        pytest.fail(f"the shared datasets lack the MNIST files ({shared / 'mnist'})")
    return shared
