#!/usr/bin/env bash
# The main job: set up, train digits-tiny end to end, freeze, export C and Verilog,
# and run the packed CPU engine on the test split. About a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

RUN=${RUN_DIR:-runs/main-digits-tiny}
BITLOGIC=.venv/bin/bitlogic
# A fresh run each time: train refuses to overwrite an existing checkpoint.
rm -rf "$RUN"

echo "== train digits-tiny (validation carved from train; test only reported) =="
start=$(date +%s)
"$BITLOGIC" train --preset digits-tiny --out "$RUN"
echo "training wall time: $(( $(date +%s) - start )) s"

echo "== model =="
"$BITLOGIC" info "$RUN"

echo "== export (the netlist is $RUN/netlist.safetensors) =="
"$BITLOGIC" export "$RUN" --format c --out "$RUN/c"
"$BITLOGIC" export "$RUN" --format verilog --out "$RUN/verilog"

echo "== evaluate =="
echo -n "model.eval() (torch):  "
"$BITLOGIC" eval "$RUN" --split test
echo -n "packed CPU engine:     "
"$BITLOGIC" eval "$RUN/netlist.safetensors" --split test --repeat 200
