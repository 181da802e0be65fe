#!/usr/bin/env bash
# Install wattbench into .venv and run the main job on the offline default.
# Today: a LoadGen Offline run of the null SUT (no model, no meter); the measured run with the
# simulated meter replaces it once `wattbench run` lands (see docs/architecture.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/wattbench bench --sut null --scenario Server --target-qps 2000 --duration-ms 5000 --out wattbench-bench "$@"
