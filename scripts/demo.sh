#!/usr/bin/env bash
# Sets up, builds (release) and runs the main job. Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# ccache: paths relative to the checkout, so every clone (CI's too) shares one cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
cmake --workflow --preset release
./build/release/examples/qsim/qsim version
