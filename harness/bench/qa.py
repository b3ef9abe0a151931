"""``harness bench qa``: what the QA scorer costs per pair beside the NLI scorer, as ratios from one process.

Each variant is one scorer of the config (``nli`` or ``qa``) run alone over the config's datasets (see
harness/bench/variants.py): unique model inputs, model tokens, engine calls, seconds of scoring, pairs per second
and ROC-AUC of the first labelled dataset, each also as a ratio to the first variant::

    harness bench qa --config configs/nli_qa.yaml --set-data ../shared/data/dev/frank_valid.jsonl --limit 60

The built-in variants: ``nli`` (the config's NLI scorer), ``qa-every-window`` (QA as it was before 0.5: every
question, absent candidates included, reads every source window, and the model answers it on the claim too) and
``qa`` (the config's QA scorer: by default the best window per question, the candidate as reference, absent
candidates unsupported without a question).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.bench.variants import Variant, add_arguments, chosen_variants, print_rows, run_variants

__all__ = ["VARIANTS", "main"]

VARIANTS: dict[str, Variant] = {
    "nli": ("nli", {}),
    "qa-every-window": ("qa", {"source_windows": None, "widen_below": None, "claim_answers": "model",
                               "absent_answers": "ask"}),
    "qa": ("qa", {}),
}
"""Built-in variants: (scorer type, changes to the config's first scorer of that type)."""


def main(argv: list[str] | None = None) -> int:
    from harness.config import load_config

    ap = argparse.ArgumentParser(prog="harness bench qa", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="a run config with nli and qa scorers and its datasets")
    ap.add_argument("--set-data", default=None, metavar="JSONL",
                    help="score this JSONL file (fields id, source, summary, label: FRANK's) instead of the "
                         "config's datasets")
    add_arguments(ap, VARIANTS, "nli,qa-every-window,qa", "type=nli picks the NLI scorer (default: qa)")
    args = ap.parse_args(argv)
    variants = chosen_variants(ap, args, VARIANTS, "qa")
    base = load_config(args.config)
    if args.set_data:
        data = [{"name": Path(args.set_data).stem, "type": "jsonl", "path": str(Path(args.set_data).resolve()),
                 "fields": {"id": "id", "source": "source", "rewrite": "summary", "label": "label"}, "role": "dev"}]
        base = type(base).model_validate({**base.model_dump(mode="json"), "data": data})
    try:
        rows = run_variants(base, variants, limit=args.limit, threads=args.threads, repeats=args.repeats)
    except ValueError as exc:
        ap.error(str(exc))
    print_rows(rows, args.config, args.repeats, args.json)
    return 0
