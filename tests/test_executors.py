"""Block pipeline: Parquet results equal to the JSONL, readers take either, block resume after SIGKILL,
a failed run leaves no run folder, the default install runs without Ray."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from harness.__main__ import main
from harness.config import load_config
from harness.results.blocks import BlockStore, RunLockedError
from harness.results.reader import load_run
from harness.results.schema import ClaimRow, PairRow
from harness.stages import _merge_warnings

FILES = ("claims.jsonl", "pairs.jsonl", "claims.parquet", "pairs.parquet")
WORDS = ("council budget taxes river city mayor school bridge police report company profit court judge "
         "minister vote market storm harbour museum").split()


def write_pairs(path: Path, n: int, seed: int = 3) -> Path:
    """Labelled synthetic pairs: half the rewrites copy a source sentence, half use words it lacks."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))).capitalize() + "."
                 for _ in range(rng.randint(2, 5))]
        claim = rng.choice(sents) if i % 2 == 0 else "Aliens landed on the moon yesterday."
        rows.append({"id": f"r{i}", "source": " ".join(sents), "rewrite": claim + " " + rng.choice(sents),
                     "label": 1 - i % 2})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_config(tmp_path: Path, data: Path, *, model_dir: Path | None = None, extra: str = "") -> Path:
    nli = f'  - type: nli\n    model: {{id: "{model_dir}", max_length: 128}}\n' if model_dir else ""
    scorers = nli + "  - type: overlap\n"
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"""
name: blocks
data: {{name: syn, type: jsonl, path: {data}, role: dev}}
checks: {{off_topic_encoder: false}}
scorers:
{scorers}runtime: {{dtype: fp32, cache: null, progress: false, threads: 1, block_pairs: 6}}
{extra}
""", encoding="utf-8")
    return cfg


def run_folder(out: Path) -> Path:
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return folder


def test_parquet_rows_equal_jsonl_rows_and_readers_take_either(tmp_path: Path) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 20)
    cfg = write_config(tmp_path, data)
    assert main(["run", str(cfg), "--output", str(tmp_path / "both")]) == 0
    both = run_folder(tmp_path / "both")
    assert all((both / f).is_file() for f in FILES)
    assert not [p for p in (tmp_path / "both").iterdir() if p.name.startswith(".")], "work folder left behind"
    from harness.results.reader import iter_jsonl, iter_parquet_rows

    for kind, model in (("claims", ClaimRow), ("pairs", PairRow)):
        from_jsonl = list(iter_jsonl(both / f"{kind}.jsonl", model))
        from_parquet = list(iter_parquet_rows(both / f"{kind}.parquet", model))
        assert from_parquet == from_jsonl and len(from_jsonl) > 0
    import pyarrow.parquet as pq

    assert pq.ParquetFile(both / "pairs.parquet").metadata.num_row_groups == 4  # one per block of 6

    assert main(["run", str(cfg), "--output", str(tmp_path / "pq"), "--set", "output_formats=[parquet]"]) == 0
    pq_only = run_folder(tmp_path / "pq")
    assert sorted(p.name for p in pq_only.iterdir()) == ["claims.parquet", "pairs.parquet", "run.json"]
    a, b = load_run(both), load_run(pq_only)
    assert b.pairs == a.pairs and b.claims == a.claims
    assert b.record.metrics == a.record.metrics and a.record.metrics["syn"]["overlap"]["roc_auc"] == 1.0
    assert main(["compare", str(both), str(pq_only), "--n-boot", "20"]) == 0
    assert main(["report", str(pq_only), "--out", str(tmp_path / "r.html")]) == 0
    assert "r19" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_block_size_changes_nothing_for_a_model_free_scorer(tmp_path: Path) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 13)
    cfg = write_config(tmp_path, data)
    for size in (1, 5, 100):
        assert main(["run", str(cfg), "--output", str(tmp_path / f"b{size}"), "--set",
                     f"runtime.block_pairs={size}"]) == 0
    first = run_folder(tmp_path / "b1")
    for size in (5, 100):
        other = run_folder(tmp_path / f"b{size}")
        for f in ("claims.jsonl", "pairs.jsonl"):
            assert (other / f).read_bytes() == (first / f).read_bytes()
    rec = load_run(first).record
    assert rec.counts["pairs"] == 13 and rec.coverage["min"] <= rec.coverage["mean"]


KILLER = """
import os, signal, sys
from harness.results.blocks import BlockStore
orig = BlockStore.write
done = {"n": 0}
def write(self, *a, **k):
    orig(self, *a, **k)
    done["n"] += 1
    if done["n"] >= int(os.environ["KILL_AFTER_BLOCKS"]):
        os.kill(os.getpid(), signal.SIGKILL)
BlockStore.write = write
from harness.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_driver_killed_after_some_blocks_resumes_them_and_writes_identical_files(
        tmp_path: Path, tiny_nli_dir: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 30)
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
    out = tmp_path / "out"
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(repo),
           "KILL_AFTER_BLOCKS": "2"}
    killed = subprocess.run([sys.executable, "-c", KILLER, "run", str(cfg), "--output", str(out)],
                            env=env, cwd=repo, capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    (work,) = [p for p in out.iterdir()]
    assert work.name.startswith(".work-"), "a killed run must leave no visible run folder"
    assert sorted(p.name for p in work.glob("*.json")) == ["000000.json", "000001.json"]

    import harness.stages as stages

    scored: list[str] = []
    real = stages.score_block
    monkeypatch.setattr(stages, "score_block", lambda ctx, pairs: scored.append(pairs[0].id) or real(ctx, pairs))
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    assert scored == ["r12", "r18", "r24"], "the two finished blocks must be skipped, the other three scored"
    assert not work.exists()
    monkeypatch.setattr(stages, "score_block", real)
    assert main(["run", str(cfg), "--output", str(tmp_path / "fresh")]) == 0
    resumed, fresh = run_folder(out), run_folder(tmp_path / "fresh")
    for f in FILES:
        assert (resumed / f).read_bytes() == (fresh / f).read_bytes(), f
    rec = load_run(resumed).record
    resume_keys = {"blocks_reused", "pairs_reused", "blocks_computed"}
    fresh_counts = load_run(fresh).record.counts
    assert rec.counts["pairs"] == 30
    assert {k: v for k, v in rec.counts.items() if k not in resume_keys} == \
        {k: v for k, v in fresh_counts.items() if k not in resume_keys}
    # the rerun says what it reused (run.json; stderr says the same in one line)
    assert (rec.counts["blocks_reused"], rec.counts["pairs_reused"], rec.counts["blocks_computed"]) == (2, 12, 3)
    assert (fresh_counts["blocks_reused"], fresh_counts["blocks_computed"]) == (0, 5)
    assert rec.reasons == load_run(fresh).record.reasons and rec.metrics == load_run(fresh).record.metrics


def test_changed_input_is_not_taken_from_a_finished_block(tmp_path: Path) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 12)
    cfg = load_config(write_config(tmp_path, data))
    from harness.executors.blocks import iter_blocks

    blocks = list(iter_blocks(cfg))
    assert [len(b.pairs) for b in blocks] == [6, 6]
    with BlockStore(tmp_path / "w") as store:
        store.write(0, blocks[0].digest, [], [], {"x": 1})
        assert store.finished(0, blocks[0].digest) == {"x": 1}
        assert store.finished(0, blocks[1].digest) is None
        assert store.finished(1, blocks[1].digest) is None
        with pytest.raises(RunLockedError), BlockStore(tmp_path / "w"):
            pass


def test_failing_block_leaves_no_run_folder_and_keeps_finished_blocks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 18)
    cfg = write_config(tmp_path, data)
    import harness.stages as stages

    real = stages.score_block

    def fail_on_third(ctx, pairs):  # type: ignore[no-untyped-def]
        if pairs[0].id == "r12":
            raise RuntimeError("boom")
        return real(ctx, pairs)

    monkeypatch.setattr(stages, "score_block", fail_on_third)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--output", str(out)]) == 1
    assert [p.name.startswith(".work-") for p in out.iterdir()] == [True]
    monkeypatch.setattr(stages, "score_block", real)
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    assert load_run(run_folder(out)).record.counts["pairs"] == 18


def test_ray_executor_without_ray_fails_at_start_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 4)
    cfg = write_config(tmp_path, data)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as on a default install
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--output", str(out), "--set", "runtime.executor=ray"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and 'pip install "harness[ray]"' in lines[0]
    assert not out.exists()


def test_default_install_imports_no_ray(repo: Path) -> None:
    code = ("import sys; import harness.executors, harness.executors.local, harness.stages, harness.__main__; "
            "print('ray' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, check=True)
    assert proc.stdout.strip() == "False"


def test_block_warnings_merge_by_summing_their_counts() -> None:
    merged = _merge_warnings([
        ["quotes: 3 cross-lingual pairs had x", "encoder missing"],
        ["quotes: 2 cross-lingual pairs had x", "encoder missing", "LANGUAGE: 1 of 6 pairs"],
        ["LANGUAGE: 2 of 6 pairs"],
    ])
    assert merged == ["quotes: 5 cross-lingual pairs had x", "encoder missing", "LANGUAGE: 3 of 12 pairs"]


def test_executor_settings_do_not_change_the_config_hash_but_block_size_does(tmp_path: Path) -> None:
    from harness.config import config_hash

    cfg = write_config(tmp_path, write_pairs(tmp_path / "d.jsonl", 2))
    base = config_hash(load_config(cfg))
    on_ray = load_config(cfg, ["runtime.executor=ray", "runtime.ray.actors=8", "runtime.ray.address=auto",
                               "output_formats=[parquet]"])
    assert config_hash(on_ray) == base
    assert config_hash(load_config(cfg, ["runtime.block_pairs=7"])) != base  # model batches follow blocks


class _FakeRay:
    def __init__(self, **resources: float) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


@pytest.mark.parametrize(("overrides", "resources", "n_blocks", "expected"), [
    ([], {"CPU": 16}, 100, (16, 0.0, 1)),
    (["runtime.ray.cpus_per_actor=4"], {"CPU": 16}, 100, (4, 0.0, 4)),
    ([], {"CPU": 16}, 3, (3, 0.0, 1)),  # never more actors than blocks
    ([], {"CPU": 32, "GPU": 4}, 100, (4, 1.0, 1)),  # device auto + GPUs in the cluster: one actor per GPU
    (["runtime.ray.gpus_per_actor=0.5"], {"CPU": 32, "GPU": 4}, 100, (8, 0.5, 1)),
    (["runtime.device=cpu"], {"CPU": 8, "GPU": 4}, 100, (8, 0.0, 1)),
    (["runtime.ray.actors=3", "runtime.device=cuda"], {"CPU": 8, "GPU": 4}, 100, (3, 1.0, 1)),
])
def test_ray_actor_pool_sizing(tmp_path: Path, overrides: list[str], resources: dict[str, float], n_blocks: int,
                               expected: tuple[int, float, int]) -> None:
    from harness.executors.ray import _pool

    cfg = load_config(write_config(tmp_path, write_pairs(tmp_path / "d.jsonl", 2)), overrides)
    assert _pool(cfg, _FakeRay(**resources), n_blocks) == expected


def test_run_warns_when_combined_ranks_below_its_best_member(tmp_path: Path, tiny_nli_dir: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A random tiny NLI weighted far above overlap (AUC 1.0 on these pairs) drags ``combined`` below overlap: the run
    says so in run.json and on screen; with the random member weighted 0 it stays quiet."""
    data = write_pairs(tmp_path / "d.jsonl", 24)
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
    assert main(["run", str(cfg), "--output", str(tmp_path / "mixed"), "--set", "scorers.0.weight=20"]) == 0
    record = json.loads((run_folder(tmp_path / "mixed") / "run.json").read_text(encoding="utf-8"))
    by_scorer = record["metrics"]["syn"]
    assert by_scorer["combined"]["roc_auc"] < by_scorer["overlap"]["roc_auc"] == 1.0
    (line,) = [w for w in record["warnings"] if "below its best member" in w]
    assert "dev set syn" in line and "overlap 1.000" in line
    screen = capsys.readouterr()
    assert "below its best member" in screen.out + screen.err

    assert main(["run", str(cfg), "--output", str(tmp_path / "quiet"), "--set", "scorers.0.weight=0"]) == 0
    record = json.loads((run_folder(tmp_path / "quiet") / "run.json").read_text(encoding="utf-8"))
    assert not [w for w in record["warnings"] if "below its best member" in w]
