#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that reaches no package
# registry: the Debian 12 -dev packages qsim builds against (headers, CMake
# configs, .pc files, static test libraries), their runtime libraries, and CMake
# and Ninja themselves, unpacked (dpkg -x) into one folder to carry there.
# LibTorch is *not* packed: the GPU machine builds against its own CUDA PyTorch.
#
# Usage (on the Debian 12 development machine, apt sources reachable):
#   bash scripts/gpu-bundle.sh              # writes build/gpu-bundle.tar.gz (~20 MB)
# then carry that one file (a tarball keeps the .so symlinks) and run
# `bash scripts/gpu-check.sh` there: it unpacks it into build/gpu-bundle and puts
# it on PATH, CMAKE_PREFIX_PATH, PKG_CONFIG_* and LD_LIBRARY_PATH.
#
# Caveats, reported in gpu-check's summary: the libraries are built with the
# C++11 ABI (PyTorch wheels since 2.7 are too) and need glibc >= 2.36's
# contemporaries (Debian 12, Ubuntu 22.04+ in practice).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/gpu-bundle
tarball=build/gpu-bundle.tar.gz

packages=(
  # build tools (cmake-data holds its modules; the libraries are cmake's runtime)
  cmake cmake-data ninja-build pkgconf pkgconf-bin libpkgconf3
  libjsoncpp25 librhash0 libuv1 libarchive13
  # headers and configs qsim finds in cmake/qsim_dependencies.cmake, and their .so
  libeigen3-dev nlohmann-json3-dev libcli11-dev
  libfmt-dev libfmt9 libspdlog-dev libspdlog1.10
  libutf8proc-dev libutf8proc2 libzip-dev libzip4
  libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian
)

rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root"
(cd "$dir/debs" && apt-get download "${packages[@]}" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
# Documentation is most of the weight and none of the use; so is cpack.
rm -rf "$dir/root/usr/share/doc" "$dir/root/usr/share/man" "$dir/root/usr/share/cmake-"*/Help "$dir/debs" \
  "$dir/root/usr/bin/cpack"
"$dir/root/usr/bin/cmake" --version >/dev/null
tar -C "$dir" -czf "$tarball" root
echo "gpu-bundle: ${#packages[@]} packages in $tarball ($(du -h "$tarball" | cut -f1))"
