#!/usr/bin/env bash
# Sets up, builds (release) and runs the demo: a small BERT trained from scratch on
# SST-2, evaluated FP32 vs W8A8 PTQ vs W8A8 QAT (docs/results.md). Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/qsim-ccache}"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
# Only what the demo runs: the library and bert_demo (the other tools build with
# `cmake --build --preset release`).
cmake --preset release
cmake --build --preset release --target bert_demo
# Passive OpenMP waiting: spinning threads are ruinous when other jobs share the cores.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
./build/release/examples/bert_train/bert_demo --output_dir demo_result "$@"
