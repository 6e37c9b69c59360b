#!/usr/bin/env bash
# Data-parallel bert_eval on this machine: N processes joined over loopback through
# LibTorch's c10d (Gloo), each evaluating its shard; rank 0 writes the results, which
# equal a single process's. Usage:
#   scripts/dp-eval.sh N <bert_eval arguments...>
# BERT_EVAL names the binary (default build/release/examples/bert_eval/bert_eval);
# MASTER_PORT the store's port (default: a free-looking one in 29500-30499). Give each
# process its share of the cores with --threads.
set -euo pipefail
if [ $# -lt 1 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/dp-eval.sh N <bert_eval arguments...>" >&2
  exit 2
fi
n=$1
shift
bin=${BERT_EVAL:-build/release/examples/bert_eval/bert_eval}
port=${MASTER_PORT:-$((29500 + RANDOM % 1000))}
pids=()
for ((rank = 0; rank < n; rank++)); do
  WORLD_SIZE=$n RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bin" "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
