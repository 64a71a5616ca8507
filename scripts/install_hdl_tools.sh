#!/usr/bin/env bash
# Install the HDL tools the equality tests need (Icarus Verilog, Verilator, yosys).
set -euo pipefail
missing=()
for tool in iverilog verilator yosys; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends iverilog verilator yosys >/dev/null
