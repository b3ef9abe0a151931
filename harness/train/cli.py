"""Command line: ``python -m harness.train CONFIG.yaml [--no-resume]`` (rerun the same command to resume);
``--status`` prints where a run stands, ``--ship STEP`` ships a snapshot chosen on dev."""

from __future__ import annotations

import argparse
import os

from harness.train.trainer import run_training


def _kind(path: str) -> str | None:
    """Which trainer a config is for: ``kind: crosslingual_head``, ``kind: qa`` (the embedded extractive QA
    model, harness/train/qa.py), else the embedded cross-encoder."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except OSError:
        return None
    return raw.get("kind") if isinstance(raw, dict) else None


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the base comes from a local package; never the network
    parser = argparse.ArgumentParser(prog="python -m harness.train", description=__doc__)
    parser.add_argument("config", help="YAML training config, e.g. configs/train_embedded.yaml")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--export-only", action="store_true",
                        help="export the latest checkpoint without training further")
    parser.add_argument("--status", action="store_true",
                        help="print where the run stands (progress, checkpoint, CPU-hours, dev curve) and exit")
    parser.add_argument("--stop-after", type=int, default=None, metavar="STEP",
                        help="checkpoint and stop at this global step (the LR schedule still spans the full run)")
    parser.add_argument("--ship", type=int, default=None, metavar="STEP",
                        help="write the run's snapshot at STEP (chosen on dev) as the shipped delta and exit")
    parser.add_argument("--to", default=None, metavar="DIR", help="with --ship: where (default: output.ship_dir)")
    parser.add_argument("--version", default=None, help="with --ship: the release version (default: output.version)")
    args = parser.parse_args(argv)
    if args.ship is not None:
        from harness.train.ship import ShipError, ship_snapshot

        try:
            print(ship_snapshot(args.config, args.ship, to=args.to, version=args.version))
        except ShipError as exc:
            parser.exit(2, f"error: {exc}\n")
        return 0
    if args.status:
        from harness.train.journal import status_lines
        from harness.train.trainer import load_config, resolve

        cfg = load_config(args.config)
        total = cfg.train.max_steps
        print("\n".join(status_lines(resolve(cfg.output.train_dir), total, cfg.train.batch_size)))
        return 0
    if _kind(args.config) == "crosslingual_head":
        from harness.train.crosslingual import train_head

        print(train_head(args.config))
        return 0
    if _kind(args.config) == "qa":
        from harness.train.qa import run_qa_training

        print(run_qa_training(args.config, resume=not args.no_resume, export_only=args.export_only,
                              stop_after=args.stop_after))
        return 0
    path = run_training(args.config, resume=not args.no_resume, export_only=args.export_only,
                        stop_after=args.stop_after)
    print(path)
    return 0
