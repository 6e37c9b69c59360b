#!/usr/bin/env bash
# Installs every system dependency of qsim on Debian 12 (idempotent; run as root).
# Usage: scripts/setup.sh            (build + test dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

# ONNX Runtime (the official npm package onnxruntime-node, CPU libraries inside)
# into scripts/ort/node_modules, for scripts/ort/run_model.js. --ignore-scripts:
# its install step would try to download CUDA builds.
install_onnxruntime() {
  local want have=""
  want=$(sed -n 's/.*"onnxruntime-node": "\(.*\)".*/\1/p' scripts/ort/package.json)
  [ -f scripts/ort/node_modules/onnxruntime-node/package.json ] &&
    have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' scripts/ort/node_modules/onnxruntime-node/package.json)
  if [ "$have" = "$want" ]; then
    echo "setup: onnxruntime-node $have already installed"
    return
  fi
  command -v npm >/dev/null || { echo "setup: npm (Node.js >= 18) is needed for ONNX Runtime" >&2; exit 1; }
  echo "setup: installing onnxruntime-node $want (npm)"
  (cd scripts/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
}

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp        # LibTorch 1.13 (CPU); OpenBLAS, else GEMMs run ~20x slower
  libdnnl-dev                             # oneDNN's sgemm for the inference GEMMs (CPU-native AVX-512 kernels)
  libeigen3-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
  libutf8proc-dev libzip-dev zlib1g-dev
  libgloo-dev                             # headers of the Gloo backend that LibTorch's c10d ships (data parallel)
  libonnx-dev libprotobuf-dev             # ONNX export (deploy layer): ONNX's own C++ library and protobuf
  gnuplot-nox chromium                    # plots of the sensitivity / mixed-precision report, and the test that opens it
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev             # libFuzzer + sanitizers for the fuzz preset (scripts/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  install_onnxruntime
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_onnxruntime
