#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang, ASan + UBSan) and runs each one
# for SECONDS, two at a time on this 2-core machine; fails on any crash, leak,
# timeout or sanitizer report. Usage:
#   bash scripts/fuzz.sh [SECONDS per target, default 60] [target ...]
# Targets: the fuzz_* names without the prefix (default: all). Seeds: the checked-in
# tests/fuzz/corpus/<target>/ (hand-made inputs and the regression inputs of every
# crash found), hand-assembled checkpoints (fuzz_make_seeds) and the real fixtures
# of ../shared (QSIM_DATA_DIR, QSIM_GOLDEN_DIR). The growing corpus is kept in
# build/fuzz/corpus; crashes land in build/fuzz/artifacts; totals in
# build/fuzz/summary.md and summary.json (the table docs/reliability.md records).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors pickle_zip pickle_legacy aimet_config encodings glue_tsv squad_json vocab tokenizer)
jobs=${QSIM_FUZZ_JOBS:-$(nproc)}
data=${QSIM_DATA_DIR:-$root/../shared/data}
golden=${QSIM_GOLDEN_DIR:-$root/../shared/golden}
[ -f "$data/vocab/bert-base-uncased-vocab.txt" ] || { echo "fuzz: no vocab under $data (set QSIM_DATA_DIR)" >&2; exit 2; }

export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
cmake --workflow --preset fuzz

out=$root/build/fuzz
bin=$out/tests/fuzz
seeds=$out/seeds
rm -rf "$seeds" && mkdir -p "$seeds"
"$bin/fuzz_make_seeds" "$seeds"

# Seeds from the real fixtures: copies in the build tree, never in the repository.
add() { mkdir -p "$seeds/$1"; cp "${@:2}" "$seeds/$1/" 2>/dev/null || true; }
add safetensors "$golden"/*/io/single_mask_*.safetensors
add pickle_zip "$golden/bert_tiny_std002/models/seqcls2/pytorch_model.bin"
add pickle_legacy "$golden/bert_tiny_std002/models/seqcls2_legacy/pytorch_model.bin"
add aimet_config share/qsim/default_config.json
add encodings "$golden"/*/models/*/config.json
add vocab "$golden/bert_tiny_std002/models/seqcls2/vocab.txt"
head -n 3000 "$data/vocab/bert-base-uncased-vocab.txt" > "$seeds/vocab/bert_base_head.txt"
mkdir -p "$seeds/glue_tsv" "$seeds/tokenizer"
for tsv in "$data"/glue/*/dev.tsv; do
  head -n 25 "$tsv" > "$seeds/glue_tsv/$(basename "$(dirname "$tsv")").tsv"
done
# One sentence (pair) per tokenizer seed: the fields of real GLUE rows.
n=0
for tsv in "$golden"/tokenizer/sources/*.tsv "$data"/glue/{RTE,MRPC,CoLA}/dev.tsv; do
  while IFS= read -r line && [ $n -lt 400 ]; do
    printf '%s' "$line" | cut -f 2- > "$seeds/tokenizer/row$n.txt"
    n=$((n + 1))
  done < <(head -n 60 "$tsv")
done

dict_of() {
  case $1 in
    safetensors) echo safetensors ;; pickle_*) echo pickle ;; glue_tsv) echo tsv ;;
    aimet_config|encodings|squad_json) echo json ;; *) echo "" ;;
  esac
}

run_one() {
  local t=$1 corpus=$out/corpus/$1 artifacts=$out/artifacts/$1 dict
  mkdir -p "$corpus" "$artifacts" "$seeds/$t" "$root/tests/fuzz/corpus/$t"
  dict=$(dict_of "$t")
  local args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096
              -artifact_prefix="$artifacts/")
  [ -z "$dict" ] || args+=(-dict="$root/tests/fuzz/dicts/$dict.dict")
  if QSIM_DATA_DIR=$data TMPDIR=/dev/shm "$bin/fuzz_$t" "${args[@]}" \
      "$corpus" "$seeds/$t" "$root/tests/fuzz/corpus/$t" > "$out/fuzz_$t.log" 2>&1; then
    echo "fuzz: $t: ok"
  else
    echo "fuzz: $t: FAILED (log: $out/fuzz_$t.log, inputs: $artifacts)"
    grep -m1 -E "ERROR|SUMMARY|deadly|terminate" "$out/fuzz_$t.log" || true
    return 1
  fi
}
export -f run_one dict_of
export seconds out bin seeds root data

status=0
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}' || status=1

# Totals per target, from libFuzzer's final statistics.
{
  echo "| target | executions | exec/s | coverage (edges) | features | corpus | crashes |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for t in "${targets[@]}"; do
    log=$out/fuzz_$t.log
    execs=$(grep -oP 'stat::number_of_executed_units:\s+\K[0-9]+' "$log" || echo 0)
    speed=$(grep -oP 'stat::average_exec_per_sec:\s+\K[0-9]+' "$log" || echo 0)
    cov=$(grep -oP '#[0-9]+\s+(DONE|INITED|NEW|REDUCE|pulse)\s+cov: \K[0-9]+' "$log" | tail -1 || echo 0)
    ft=$(grep -oP '#[0-9]+\s+(DONE|INITED|NEW|REDUCE|pulse)\s+cov: [0-9]+ ft: \K[0-9]+' "$log" | tail -1 || echo 0)
    corp=$(find "$out/corpus/$t" -type f | wc -l)
    crashes=$(find "$out/artifacts/$t" -type f | wc -l)
    echo "| $t | $execs | $speed | ${cov:-0} | ${ft:-0} | $corp | $crashes |"
  done
} > "$out/summary.md"
awk -F'|' 'NR > 2 { gsub(/ /, ""); printf "%s{\"target\":\"%s\",\"executions\":%s,\"exec_per_sec\":%s,\"coverage\":%s,\"features\":%s,\"corpus\":%s,\"crashes\":%s}", (n++ ? "," : "["), $2, $3, $4, $5, $6, $7, $8 } END { print "]" }' \
  "$out/summary.md" > "$out/summary.json"
cat "$out/summary.md"
total=$(awk -F'|' 'NR > 2 { s += $3 } END { print s + 0 }' "$out/summary.md")
echo "fuzz: $total executions over ${#targets[@]} targets, ${seconds} s each"
exit $status
