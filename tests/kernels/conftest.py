"""Kernel tests need the compiled library; without a compiler they skip (and fail under CI)."""

from __future__ import annotations

import os

import pytest

from bitlogic.kernels import available


@pytest.fixture(autouse=True)
def _require_kernels(request):
    if request.node.get_closest_marker("without_kernels"):
        return
    if not available():
        if os.environ.get("CI") == "true":
            pytest.fail("the training kernels must build on CI (is a C compiler installed?)")
        pytest.skip("no C compiler: the training kernels are unavailable")


def pytest_configure(config):
    config.addinivalue_line("markers", "without_kernels: runs whether or not the kernels build")
