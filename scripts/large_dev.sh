#!/usr/bin/env bash
# The whole dev suite for embedded-large's snapshots against the default (issue 28; docs/model.md). Every run
# shares one content-addressed output cache, so a model's outputs are computed once: the pair runs after `base`
# and `alone STEP` take about a minute. Results go under ~/.cache/harness-train/large-dev/ (outside the work tree).
#   bash scripts/large_dev.sh base              # the default (embedded) alone, fusion off and on
#   bash scripts/large_dev.sh alone STEP        # the large snapshot at STEP alone, fusion off and on
#   bash scripts/large_dev.sh pair STEP         # both side by side (configs/dev_suite_large_pair.yaml), fusion off and on
# Then, e.g.:  python -m harness compare BASE_RUN PAIR_RUN --scorer nli=combined --max-flips 0
#              python scripts/subset_auc.py --scorer nli=combined --data ../shared/data/dev/frank_valid.jsonl \
#                  --dataset frank_valid --field origin --value xsum|cnndm BASE_RUN PAIR_RUN
# Env: TRAIN_DIR (default: configs/train_embedded_large.yaml's train_dir), THREADS (default 1), DEV_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 TOKENIZERS_PARALLELISM=false
DEV_DIR=${DEV_DIR:-~/.cache/harness-train/large-dev}
TRAIN_DIR=${TRAIN_DIR:-~/.cache/harness-train/embedded-large-clean}
THREADS=${THREADS:-1}
mkdir -p "$DEV_DIR"
CACHE="$DEV_DIR/cache.sqlite"

run() {  # run OUT CONFIG [--set ...]: one dev run, fusion off and on, its run folders under OUT
  local out=$1 config=$2; shift 2
  python -m harness run "$config" --set runtime.cache="$CACHE" --set runtime.threads="$THREADS" --output "$out/fusion-off" "$@" \
    $(fusion_sets false "$config") | tail -3
  python -m harness run "$config" --set runtime.cache="$CACHE" --set runtime.threads="$THREADS" --output "$out/fusion-on" "$@" \
    $(fusion_sets true "$config") | tail -3
}

fusion_sets() {  # --set scorers.N.fusion=V for every nli scorer of the config
  python - "$1" "$2" <<'EOF'
import sys, yaml
value, config = sys.argv[1], sys.argv[2]
scorers = yaml.safe_load(open(config))["scorers"]
print(" ".join(f"--set scorers.{i}.fusion={value}" for i, s in enumerate(scorers) if s["type"] == "nli"))
EOF
}

snapshot() {
  local dir
  dir="$(eval echo "$TRAIN_DIR")/snapshots/step-$(printf %06d "$1")"
  [ -d "$dir" ] || { echo "large_dev.sh: no snapshot $dir" >&2; exit 2; }
  echo "$dir"
}

case "${1:-}" in
  base)  run "$DEV_DIR/base" configs/dev_suite.yaml ;;
  alone) HARNESS_EMBEDDED_LARGE_DIR=$(snapshot "$2") \
           run "$DEV_DIR/alone-$2" configs/dev_suite.yaml --set scorers.0.model.id=embedded-large ;;
  pair)  HARNESS_EMBEDDED_LARGE_DIR=$(snapshot "$2") run "$DEV_DIR/pair-$2" configs/dev_suite_large_pair.yaml ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
