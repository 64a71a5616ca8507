#!/usr/bin/env bash
# The test command: set up everything on a fresh machine, lint, run the default suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_hdl_tools.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -n 2 -q "$@"
