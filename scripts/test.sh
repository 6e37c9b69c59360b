#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: the dev build (every layer,
# golden parity, the packaging consumer) and the ASan+UBSan build of the
# torch-free layers. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/qsim-ccache}"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
cmake --workflow --preset dev
cmake --workflow --preset asan
