#!/usr/bin/env bash
# Start (or resume) the long training of issue 28 in the background, first thing each session. It resumes where
# it stopped and is a no-op when done; state and logs live under ~/.cache/harness-train/ (outside the work tree).
# Usage: bash scripts/background_training.sh
#   both cores: the 110M teacher (configs/train_embedded_large.yaml, run 2, without the non-commercial origins)
#   to 50k examples. Run 1, the distillation pilot's teacher and the licence arm were lost with their machine on
#   2026-12-08 (docs/model.md); the distillation (configs/train_embedded_distill.yaml) waits for run 2's snapshot
#   chosen on dev, and the near-copy phase 2 (configs/train_embedded_large_nc.yaml) stays on hold.
set -u
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1
LOGS=~/.cache/harness-train
mkdir -p "$LOGS"

if ! pgrep -f "harness.train configs/train_embedded_large" >/dev/null; then
  nohup python -m harness.train configs/train_embedded_large.yaml >> "$LOGS/embedded-large.log" 2>&1 &
fi
echo "started; progress: python -m harness.train --status configs/train_embedded_large.yaml (or tail -f $LOGS/*.log)"
