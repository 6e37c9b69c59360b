#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: the dev build (every layer,
# golden parity, the packaging consumer), the ASan+UBSan build of the
# torch-free layers, and every parser's libFuzzer target for
# QSIM_FUZZ_SECONDS each (default 30; docs/reliability.md). Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# ccache: paths relative to the checkout, so every clone (CI's too) shares one cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
cmake --workflow --preset dev
cmake --workflow --preset asan
bash scripts/fuzz.sh "${QSIM_FUZZ_SECONDS:-30}"
