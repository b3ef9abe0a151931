"""``harness bench [encoder | profile | generate | premises | qa | rss | executors | --source-sweep]``: picks one.

Every benchmark module is imported on demand, so one bench never pays for another's imports."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """CLI entry (``python -m harness.bench`` / ``harness bench``); without a subcommand, the cross-encoder bench
    (:func:`harness.bench.engine.main`, which writes results/bench/<timestamp>.json)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["encoder"]:  # harness bench encoder: the sentence encoder and the seed run
        from harness.bench.encoder import main as encoder_main

        return encoder_main(argv[1:])
    if argv[:1] == ["profile"]:  # harness bench profile: where the engine's CPU time goes
        from harness.bench.profile import main as profile_main

        return profile_main(argv[1:])
    if argv[:1] == ["generate"]:  # harness bench generate: seq2seq generation (the QA scorer's generator)
        from harness.bench.generate import main as generate_main

        return generate_main(argv[1:])
    if argv[:1] == ["premises"]:  # harness bench premises: what a premise-selection setting costs per pair
        from harness.bench.premises import main as premises_main

        return premises_main(argv[1:])
    if argv[:1] == ["qa"]:  # harness bench qa: what the QA scorer costs per pair beside NLI
        from harness.bench.qa import main as qa_main

        return qa_main(argv[1:])
    if argv and argv[0] in ("rss", "executors"):  # the block pipeline's scale benchmark
        from harness.bench.scale import main as scale_main

        return scale_main(argv)
    if "--source-sweep" in argv:  # seconds per stage of a real run as the source grows (harness/bench/sources.py)
        from harness.bench.sources import main as source_sweep

        return source_sweep(argv)
    from harness.bench.engine import main as engine_main

    return engine_main(argv)
