#!/usr/bin/env bash
# Verifies the CUDA kernels on a machine with a GPU, in one command:
#   1. the torch-free kernel library and its parity test (kernels_cuda_test), which
#      needs only nvcc and the Debian build dependencies — with QSIM_REQUIRE_CUDA=1,
#      so a missing device fails instead of skipping;
#   2. the whole library against the GPU machine's own PyTorch LibTorch
#      (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') with
#      QSIM_WITH_CUDA=ON: every test (ctest), then the GPU benchmarks.
#   2b. BERT-base FP32 vs W8A8 eval and FP32 vs QAT step on the GPU (train_bench);
#   3. bert_demo --device cuda (FP32 training, PTQ, QAT on the GPU) when the GLUE
#      data is there ($QSIM_DATA_DIR, else ../shared/data or shared/data);
#   4. any pretrained BERT checkpoint on the machine listed, and run with bert_eval.
# Results (logs, gtest XML, benchmark JSON, summary.md) go to $OUT when set, else
# build/gpu-check/results. Exit status: 0 only when every step passed.
#
# A machine without the Debian build dependencies uses the bundle that
# scripts/gpu-bundle.sh packs (build/gpu-bundle.tar.gz, carried with the tree).
#
# Usage: bash scripts/gpu-check.sh            (from anywhere; ~10 min on 16 cores)
#   QSIM_GPU_ARCH=90   CUDA architecture to build (default: the GPU's, via nvidia-smi)
#   QSIM_GPU_SKIP_FULL=1   only step 1 (no LibTorch needed)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results=${OUT:-$root/build/gpu-check/results}
mkdir -p "$results"
summary="$results/summary.md"
jobs=$(nproc 2>/dev/null || echo 4)
status=0

# The carried dependency bundle, when there is one: first on every search path.
bundle_tar=${QSIM_GPU_BUNDLE:-$root/build/gpu-bundle.tar.gz}
if [ -f "$bundle_tar" ]; then
  b=$root/build/gpu-bundle/root
  [ -d "$b" ] || { mkdir -p "$root/build/gpu-bundle" && tar -C "$root/build/gpu-bundle" -xzf "$bundle_tar"; }
  export PATH="$b/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$b/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CMAKE_PREFIX_PATH="$b/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export PKG_CONFIG_SYSROOT_DIR="$b"
  export PKG_CONFIG_LIBDIR="$b/usr/lib/x86_64-linux-gnu/pkgconfig:$b/usr/share/pkgconfig"
  bundle_flags=(-DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu -DPKG_CONFIG_EXECUTABLE="$b/usr/bin/pkgconf")
else
  bundle_flags=()
fi

log() { echo "$*" >>"$summary"; echo "gpu-check: $*"; }
step() {  # step <name> <command...>: runs, logs to $results/<name>.log, records the outcome
  local name=$1; shift
  echo "gpu-check: == $name: $*"
  if "$@" >"$results/$name.log" 2>&1; then
    log "- $name: ok"
  else
    log "- $name: FAILED (exit $?; see $name.log)"; tail -n 40 "$results/$name.log"; status=1; return 1
  fi
}

: >"$summary"
log "# qsim GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
{
  echo '```'
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv 2>/dev/null || echo "nvidia-smi: not found"
  nvcc --version 2>&1 | tail -n 2 || echo "nvcc: not found"
  cmake --version 2>&1 | head -n 1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cxx11_abi", torch.compiled_with_cxx11_abi())' 2>&1
  cat /etc/os-release 2>/dev/null | grep PRETTY_NAME; ldd --version 2>&1 | head -n 1
  echo "bundle: $([ ${#bundle_flags[@]} -gt 0 ] && echo "$bundle_tar" || echo none)"
  echo '```'
} >>"$summary"
cat "$summary"

arch=${QSIM_GPU_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')}
arch=${arch:-90}
export PATH="$PATH:/usr/local/cuda/bin"
generator=(-G Ninja); command -v ninja >/dev/null || generator=(-G "Unix Makefiles")
launcher=(); command -v ccache >/dev/null || launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER= -DCMAKE_CUDA_COMPILER_LAUNCHER=)
common=("${generator[@]}" "${launcher[@]}" "${bundle_flags[@]}" -DCMAKE_BUILD_TYPE=Release
        -DCMAKE_CUDA_ARCHITECTURES="$arch")
export QSIM_REQUIRE_CUDA=1

# 1. Torch-free kernels and their parity test.
kbuild=build/gpu-check/kernels
if step configure-kernels cmake -S . -B "$kbuild" "${common[@]}" -DQSIM_WITH_TORCH=OFF \
     -DQSIM_BUILD_BENCHMARKS=OFF -DQSIM_BUILD_EXAMPLES=OFF -DQSIM_INSTALL=OFF &&
   step build-kernels cmake --build "$kbuild" --target kernels_cuda_test kernels_test -j "$jobs"; then
  step parity-tests "$kbuild/tests/kernels_cuda/kernels_cuda_test" --gtest_brief=1 \
    --gtest_output="xml:$results/kernels_cuda_test.xml"
fi

# 2. The whole library on the GPU machine's LibTorch, every test, the benchmarks.
if [ "${QSIM_GPU_SKIP_FULL:-0}" != 1 ]; then
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
  if [ -z "$prefix" ]; then
    log "- full build: FAILED (python3 cannot import torch; no LibTorch to build against)"; status=1
  else
    fbuild=build/gpu-check/full
    if step configure-full cmake -S . -B "$fbuild" "${common[@]}" -DQSIM_WITH_CUDA=ON \
         -DCMAKE_PREFIX_PATH="$prefix${CMAKE_PREFIX_PATH:+;${CMAKE_PREFIX_PATH//:/;}}" &&
       step build-full cmake --build "$fbuild" -j "$jobs"; then
      step ctest ctest --test-dir "$fbuild" -j "$jobs" --output-on-failure --output-junit "$results/ctest.xml"
      bench="$fbuild/benchmarks/cuda/cuda_fake_quant_bench"
      if [ -x "$bench" ]; then
        step benchmarks "$bench" --benchmark_out="$results/cuda_fake_quant_bench.json" \
          --benchmark_out_format=json --benchmark_counters_tabular=true
        cp "$results/benchmarks.log" "$results/cuda_fake_quant_bench.txt" 2>/dev/null
      else
        log "- benchmarks: FAILED ($bench was not built: is QSIM_CUDA_ENABLED on? see configure-full.log)"; status=1
      fi
    fi
  fi
fi

# 2b. BERT-base (random weights, batch 32, seq 128) FP32 vs W8A8 eval and FP32 vs QAT
# step on the GPU.
tbench=build/gpu-check/full/benchmarks/train/train_bench
if [ -x "$tbench" ]; then
  QSIM_BENCH_DEVICE=cuda QSIM_BENCH_BATCH=32 step bert-gpu-bench "$tbench" --benchmark_filter='^BM_(Fp32|Qat|W8A8)[A-Za-z]*(Step|Eval)/' \
    --benchmark_out="$results/train_bench_cuda.json" --benchmark_out_format=json
fi

# 3. The demo on the GPU: training, calibration, QAT and evaluation on the device.
data=${QSIM_DATA_DIR:-}
for d in "$root/../shared/data" "$root/shared/data"; do [ -n "$data" ] || { [ -d "$d/glue" ] && data=$d; }; done
demo=build/gpu-check/full/examples/bert_train/bert_demo
if [ -z "$data" ]; then
  log "- demo: not run (no GLUE data: set QSIM_DATA_DIR)"
elif [ -x "$demo" ]; then
  step demo "$demo" --device cuda --data_dir "$data" --output_dir "$results/demo" && cp "$results/demo/results.md" "$results/demo.md" 2>/dev/null
else
  log "- demo: FAILED ($demo was not built)"; status=1
fi

# 4. Pretrained BERT weights on this machine (a Hugging Face cache, any bert-base
# checkpoint): listed, and each evaluated with bert_eval (SST-2 card) when found.
eval_bin=build/gpu-check/full/examples/bert_eval/bert_eval
find "$HOME/.cache/huggingface" /root /models /data /opt /workspace -maxdepth 6 -name config.json \
  2>/dev/null | xargs -r grep -l '"bert"\|BertFor\|BertModel' 2>/dev/null >"$results/pretrained.txt"
log "- pretrained BERT checkpoints found: $(wc -l <"$results/pretrained.txt") (pretrained.txt)"
n=0
while read -r cfg; do
  dir=$(dirname "$cfg"); n=$((n + 1))
  [ -n "$data" ] && [ -x "$eval_bin" ] && [ $n -le 3 ] || continue
  ls "$dir"/model.safetensors "$dir"/pytorch_model.bin >/dev/null 2>&1 || continue
  step "pretrained-$n" "$eval_bin" --model_config bert_w8a8_sst2 --model_dir "$dir" --device cuda \
    --data_dir "$data" --output_dir "$results/pretrained-$n"
done <"$results/pretrained.txt"

log "$([ $status -eq 0 ] && echo PASSED || echo FAILED); results in $results"
exit $status
