"""The campaign's bookkeeping: each case's outcome, and ``--count-outcomes`` to tally them.

A case's outcome is the prefix of its parametrize id (``error-``, ``warn-``,
``ok-``), ``property`` for a hypothesis test (whose examples each end in an
error or a result), else its ``@pytest.mark.outcome(...)``; a plain test
asserts a correct result.
``pytest tests/robustness --collect-only -q --count-outcomes`` prints the table.
"""

from __future__ import annotations

from collections import Counter

import pytest

OUTCOMES = {"error": "clear error naming the argument or file", "warn": "documented warning",
            "ok": "correct result",
            "property": "hypothesis property (each example: a clear error or a correct result)"}


def pytest_addoption(parser):
    parser.addoption("--count-outcomes", action="store_true",
                     help="print how many robustness cases end in each outcome")


def pytest_configure(config):
    config.addinivalue_line("markers", "outcome(kind): the robustness outcome of a test "
                                       "without an outcome-prefixed id (error, warn, ok)")


def outcome_of(item: pytest.Item) -> str:
    """``error``, ``warn`` or ``ok`` for one collected case; fails the run for an unlabelled one."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for part in callspec.id.split("-"):
            if part in OUTCOMES:
                return part
    if hasattr(getattr(item, "obj", None), "hypothesis"):
        return "property"
    marker = item.get_closest_marker("outcome")
    if marker is not None and marker.args and marker.args[0] in OUTCOMES:
        return marker.args[0]
    if item.name.startswith("test_") and "[" not in item.name:
        return "ok"  # a plain property test asserts a correct result
    raise pytest.UsageError(f"{item.nodeid}: no outcome (id prefix or @pytest.mark.outcome)")


def pytest_collection_modifyitems(config, items):
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            outcome_of(item)  # every case says what it expects


def pytest_collection_finish(session):
    if not session.config.getoption("--count-outcomes"):
        return
    here = __file__.rsplit("/", 1)[0]
    counts = Counter(outcome_of(i) for i in session.items if str(i.fspath).startswith(here))
    lines = ["", "| outcome | cases |", "|---|---|"]
    lines += [f"| {OUTCOMES[k]} | {counts[k]} |" for k in OUTCOMES]
    lines.append(f"| total | {sum(counts.values())} |")
    print("\n".join(lines))
