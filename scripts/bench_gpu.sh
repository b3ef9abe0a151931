#!/usr/bin/env bash
# Issue 15, item 4: the engine against the other strategies on a GPU, in one go (about 5-8 minutes on one
# data-centre GPU). Every run writes its JSON report to results/bench/ and prints its table.
#   scripts/bench_gpu.sh            # the GPU run (needs CUDA)
#   scripts/bench_gpu.sh --smoke    # the same code paths on CPU with tiny models (seconds; CI/tests run this)
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
PY=${PYTHON:-python}
if [[ "${1:-}" == "--smoke" ]]; then
  $PY -m harness bench --model tiny --device cpu --dtype fp32 --quick --n-pairs 60 --no-sweep \
      --strategies fixed_batch32,summac,crossencoder,engine
  $PY -m harness bench generate --model t5-tiny --device cpu --dtype fp32 --quick --n-prompts 24 \
      --new-tokens 4 --repeats 1
  exit 0
fi
# Cross-encoders, bf16 (the GPU default dtype): MiniLM-L6 (real weights) and DeBERTa-v3-large shape (random).
$PY -m harness bench --device cuda --dtype bf16 --model minilm --n-pairs 4000 --repeats 2 --no-sweep \
    --token-budget 65536 --strategies fixed_batch32,summac,crossencoder,engine
$PY -m harness bench --device cuda --dtype bf16 --model deberta-large-shape --n-pairs 2000 --repeats 2 --no-sweep \
    --token-budget 32768 --strategies fixed_batch32,summac,crossencoder,engine
# Generator (QA question generation), T5-large shape, greedy, 32 new tokens.
$PY -m harness bench generate --device cuda --dtype bf16 --model t5-large-shape --n-prompts 1024 \
    --new-tokens 32 --token-budget 65536 --repeats 2
