"""Interpolate two exported deltas of the same base: ``W = W0 + (1 - t) * dW_a + t * dW_b`` (a weight "soup").

Why: a model trained further on new data (b, started from a) often gains some skills and loses others;
interpolating the weights of two fine-tunes of one base that share a starting point keeps much of both
(WiSE-FT, model soups) at no training cost. The result is exact in the delta format: the LoRA factors are
concatenated (rank r_a + r_b, each B scaled by its weight), so ``B @ A = (1 - t) B_a A_a + t B_b A_b``; fully
stored tensors (LayerNorms, biases, head) are interpolated directly. ``--rank R`` then compresses each merged
LoRA update to rank R by truncated SVD (``B = U_R S_R``, ``A = V_R^T``): two deltas from a shared start are
nearly collinear, so little is lost (v0.3.0: rank 128 -> 80 keeps every layer's update to 0.6% relative
Frobenius error) and the shipped file stays small.

    python -m harness.train.soup DIR_A DIR_B --t 0.5 --out DIR [--rank 80] [--version 0.3.0]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from harness.models.embedded import ADAPTER_FILE, DELTA_FORMAT, sha256_file


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
        if meta.get("format") != DELTA_FORMAT:
            raise ValueError(f"{path} is not a {DELTA_FORMAT} file")
        return {k: fh.get_tensor(k) for k in fh.keys()}, meta  # noqa: SIM118 - safe_open has no __iter__


def compress(a: torch.Tensor, b: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, B) of rank ``rank`` closest to ``B @ A`` in Frobenius norm (truncated SVD), in the input dtype."""
    u, s, vh = torch.linalg.svd(b.float() @ a.float(), full_matrices=False)
    return vh[:rank].contiguous().to(a.dtype), (u[:, :rank] * s[:rank]).contiguous().to(b.dtype)


def soup(dir_a: Path, dir_b: Path, t: float, out_dir: Path, version: str | None = None,
         rank: int | None = None) -> Path:
    """Write ``out_dir/adapter.safetensors`` = (1 - t) * a + t * b (see the module docstring)."""
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be in [0, 1], got {t}")
    a, meta_a = _read(dir_a / ADAPTER_FILE)
    b, meta_b = _read(dir_b / ADAPTER_FILE)
    if meta_a.get("base_sha256") != meta_b.get("base_sha256"):
        raise ValueError("the two deltas were trained on different bases")
    if set(a) != set(b):
        raise ValueError(f"the deltas hold different tensors: {sorted(set(a) ^ set(b))[:3]}")
    out: dict[str, torch.Tensor] = {}
    for key in sorted(a):
        if key.startswith("lora.") and key.endswith(".A"):
            out[key] = torch.cat([a[key].float(), b[key].float()], dim=0).to(a[key].dtype)
        elif key.startswith("lora.") and key.endswith(".B"):
            out[key] = torch.cat([(1 - t) * a[key].float(), t * b[key].float()], dim=1).to(a[key].dtype)
        else:
            out[key] = ((1 - t) * a[key].float() + t * b[key].float()).to(a[key].dtype)
    if rank is not None:
        for key in [k for k in out if k.startswith("lora.") and k.endswith(".A")]:
            name = key[: -len(".A")]
            out[f"{name}.A"], out[f"{name}.B"] = compress(out[f"{name}.A"], out[f"{name}.B"], rank)
    else:
        rank = int(meta_a.get("lora_rank", "0")) + int(meta_b.get("lora_rank", "0"))
    training = {
        "soup": {"t": t, "rank": rank,
                 "a": {"sha256": sha256_file(dir_a / ADAPTER_FILE), "version": meta_a.get("version")},
                 "b": {"sha256": sha256_file(dir_b / ADAPTER_FILE), "version": meta_b.get("version")}},
        "a": json.loads(meta_a.get("training", "{}")), "b": json.loads(meta_b.get("training", "{}")),
    }
    meta = {**meta_b, "lora_rank": str(rank), "training": json.dumps(training, sort_keys=True)}
    if version:
        meta["version"] = version
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ADAPTER_FILE
    tmp = path.with_suffix(".tmp")
    save_file(out, str(tmp), metadata=meta)
    tmp.chmod(0o644)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.train.soup", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir_a", type=Path, help="folder with the first adapter.safetensors (weight 1 - t)")
    ap.add_argument("dir_b", type=Path, help="folder with the second adapter.safetensors (weight t)")
    ap.add_argument("--t", type=float, default=0.5, help="weight of the second delta (default 0.5)")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--version", default=None, help="version string for the result's metadata")
    ap.add_argument("--rank", type=int, default=None,
                    help="compress each merged LoRA update to this rank by truncated SVD (default: exact, r_a + r_b)")
    args = ap.parse_args(argv)
    print(soup(args.dir_a, args.dir_b, args.t, args.out, args.version, args.rank))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
