"""``harness bench premises``: what a premise-selection setting costs per pair, as ratios from one process.

Every variant is the config's first ``nli`` scorer with some of its keys changed; all variants are the same
run, made by the local executor without writing (checks off, no output cache: each repeat computes
everything), interleaved over ``--repeats``. Per variant: unique model inputs, model tokens, engine calls and
seconds of scoring (run.json ``timings.score``, best repeat) — each also as a ratio to the first variant — and
the first labelled dataset's ROC-AUC (a sanity check, not a substitute for ``harness compare``)::

    harness bench premises --config configs/frank_dev.yaml --limit 300
    harness bench premises --config configs/dev_suite.yaml --variant k2:premise_top_k=2,premise_stop_above=null

The built-in variants: ``top3`` (three windows, nothing else: the default the judge-quality issue measured),
``one-pass`` (today's selection without passes), ``default`` (the config as it is), and, asked for by name,
``fusion`` (the English fusion head on top: no model inputs of its own) and ``embedded-large`` (the 110M model with
the same selection: its cost per pair beside the default; needs ``pip install -e ".[large]"`` and a delta).
"""

from __future__ import annotations

import argparse

from harness.bench.variants import Variant, add_arguments, chosen_variants, print_rows, run_variants

__all__ = ["VARIANTS", "main"]

VARIANTS: dict[str, Variant] = {
    "top3": ("nli", {"premise_stop_above": None, "premise_widen_below": None, "sentence_premises_above": None}),
    "one-pass": ("nli", {"premise_stop_above": None}),
    "default": ("nli", {}),
    "fusion": ("nli", {"fusion": True}),
    "embedded-large": ("nli", {"model": {"id": "embedded-large"}}),
}
"""Built-in variants: (scorer type, changes to the config's first scorer of that type)."""


def main(argv: list[str] | None = None) -> int:
    from harness.config import load_config

    ap = argparse.ArgumentParser(prog="harness bench premises", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="a run config with an nli scorer and its datasets")
    add_arguments(ap, VARIANTS, "top3,one-pass,default", "type=qa measures the QA scorer instead")
    args = ap.parse_args(argv)
    variants = chosen_variants(ap, args, VARIANTS, "nli")
    rows = run_variants(load_config(args.config), variants, limit=args.limit, threads=args.threads,
                        repeats=args.repeats)
    print_rows(rows, args.config, args.repeats, args.json)
    return 0
