#!/usr/bin/env bash
# Install wattbench into .venv and run the main job on the offline default: a measured run on
# this machine (`wattbench run`): an embedded director with the SIMULATED meter (its power
# follows this host's CPU load), OpenVINO inference of the digits model on the CPU, SingleStream,
# a 20 s ranging phase then a 20 s testing phase (about a minute in all). The result folder is
# printed at the end; `wattbench check DIR` re-checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
OUT=${WATTBENCH_OUT:-wattbench-results/run-$(date -u +%Y%m%dT%H%M%SZ)}
exec .venv/bin/wattbench run --out "$OUT" "$@"
