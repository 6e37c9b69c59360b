#!/usr/bin/python3
"""PyTorch's own BERT-base-shaped encoder, timed as bert_bench times qsim's graph.

12 x nn.TransformerEncoderLayer(768, 12 heads, 3072, GELU, batch_first) in eval
mode under torch.inference_mode, batch 8 x 128 tokens with rows padded by 0..56
keys (the same padding as bert_bench), torch.set_num_threads(QSIM_BENCH_THREADS,
default 2). PyTorch takes its fused fast path (_transformer_encoder_layer_fwd,
nested tensors for the padding) as any user of its defaults would. Prints one
JSON line: median and best sequences/s over the timed forwards.

Usage: /usr/bin/python3 benchmarks/models/torch_encoder.py [forwards, default 15]
(Debian's python3-torch; the pyenv python first on PATH has no torch.)
"""
import json
import os
import statistics
import sys
import time

import torch

BATCH, SEQ, HIDDEN, HEADS, INNER, LAYERS = 8, 128, 768, 12, 3072, 12


def main() -> None:
    forwards = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    torch.set_num_threads(int(os.environ.get("QSIM_BENCH_THREADS", "2")))
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(HIDDEN, HEADS, INNER, activation="gelu", batch_first=True)
    encoder = torch.nn.TransformerEncoder(layer, LAYERS).eval()
    x = torch.randn(BATCH, SEQ, HIDDEN)
    padding = torch.zeros(BATCH, SEQ, dtype=torch.bool)
    for b in range(BATCH):
        if b:
            padding[b, SEQ - 8 * b:] = True
    with torch.inference_mode():
        encoder(x, src_key_padding_mask=padding)  # warm-up
        rates = []
        for _ in range(forwards):
            start = time.perf_counter()
            encoder(x, src_key_padding_mask=padding)
            rates.append(BATCH / (time.perf_counter() - start))
    print(json.dumps({"median_seq_per_s": statistics.median(rates), "best_seq_per_s": max(rates),
                      "forwards": forwards, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
