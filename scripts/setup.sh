#!/usr/bin/env bash
# Create .venv and install bitlogic with its test and docs tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch is pinned first: on these machines 2.13.0 resolves to a local CPU build,
# while an unpinned torch would pull the newest CUDA build (gigabytes).
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev,docs]"
