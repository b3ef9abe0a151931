"""The Ray executor on a local 2-CPU cluster: identical files to the local executor, and a block whose actor
dies mid-run is retried (no claim missing or duplicated)."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_executors import FILES, run_folder, write_config, write_pairs

from harness.__main__ import main
from harness.results.reader import load_run

ray = pytest.importorskip("ray", reason='needs Ray: pip install "harness[ray]"')

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One local cluster for the module; every worker runs :func:`_ray_faults.install` at start."""
    marker = tmp_path_factory.mktemp("ray") / "killed-once"
    env = {"HARNESS_TEST_KILL_MARKER": str(marker), "PYTHONPATH": f"{TESTS}{os.pathsep}{TESTS.parent}",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env, "worker_process_setup_hook": "_ray_faults.install"})
    yield marker
    ray.shutdown()


def test_ray_equals_local_byte_for_byte(tmp_path: Path, tiny_nli_dir: Path, ray_cluster: Path) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 50)
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir, extra="")
    assert main(["run", str(cfg), "--output", str(tmp_path / "local")]) == 0
    assert main(["run", str(cfg), "--output", str(tmp_path / "ray"), "--set", "runtime.executor=ray",
                 "--set", "runtime.ray.actors=2"]) == 0
    local, on_ray = run_folder(tmp_path / "local"), run_folder(tmp_path / "ray")
    for f in FILES:
        assert (on_ray / f).read_bytes() == (local / f).read_bytes(), f
    a, b = load_run(local).record, load_run(on_ray).record
    assert a.config_hash == b.config_hash and a.metrics == b.metrics and a.counts == b.counts
    assert b.counts["pairs"] == 50 and a.reasons == b.reasons and a.scorers == b.scorers


def _pairs_with_fault(tmp_path: Path, n: int, victim: str, fault: str) -> Path:
    """``n`` pairs in which pair ``victim`` is renamed ``fault``, an id the fault hook (tests/_ray_faults.py)
    acts on inside the scoring actor."""
    data = write_pairs(tmp_path / "d.jsonl", n)
    data.write_text(data.read_text(encoding="utf-8").replace(f'"id": "{victim}"', f'"id": "{fault}"'),
                    encoding="utf-8")
    return data


def test_actor_killed_mid_run_is_retried_without_losing_or_repeating_claims(
        tmp_path: Path, tiny_nli_dir: Path, ray_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _pairs_with_fault(tmp_path, 30, "r14", "kill-actor-once")
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
    assert not ray_cluster.exists()
    assert main(["run", str(cfg), "--output", str(tmp_path / "ray"), "--set", "runtime.executor=ray",
                 "--set", "runtime.ray.actors=2", "--set", "runtime.backend=onnx",
                 "--set", f"runtime.cache={tmp_path / 'cache.sqlite'}"]) == 0
    assert ray_cluster.exists(), "the fault hook never fired: the test did not kill an actor"
    # the restart is said, once, naming the block, and counted in run.json
    restarts = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("ray: a scoring actor died")]
    assert len(restarts) == 1 and "block 2 (6 pairs, ids 'r12'..'kill-actor-once'" not in restarts[0]
    assert "block 2 (6 pairs" in restarts[0] and "1 of at most 3" in restarts[0], restarts
    executor = load_run(run_folder(tmp_path / "ray")).record.executor
    assert executor["actor_restarts"] == 1 and executor["actors"] == 2
    assert sorted(b for a in executor["per_actor"] for b in a["blocks"]) == [0, 1, 2, 3, 4]
    # the restarted actor found the kept ONNX export instead of exporting into a private temporary folder
    # (a killed actor cannot remove one: 87 MB leaked per death with the real model)
    kept = [p for p in (tmp_path / "onnx").iterdir() if not p.name.startswith(".")]
    assert len(kept) == 1 and (kept[0] / "model.onnx").is_file()
    assert main(["run", str(cfg), "--output", str(tmp_path / "local")]) == 0
    on_ray, local = load_run(run_folder(tmp_path / "ray")), load_run(run_folder(tmp_path / "local"))
    keys = Counter((c.pair_id, c.scorer, c.claim_index) for c in on_ray.iter_claims())
    assert max(keys.values()) == 1 and len(keys) == on_ray.record.counts["claim_rows"]
    assert [p.pair_id for p in on_ray.pairs] == [p.pair_id for p in local.pairs]
    for f in FILES:
        assert (on_ray.path / f).read_bytes() == (local.path / f).read_bytes(), f


def test_block_that_always_kills_its_actor_fails_after_max_restarts(
        tmp_path: Path, tiny_nli_dir: Path, ray_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ray Data alone restarts the actor and retries the block forever; the run must stop, say which block."""
    data = _pairs_with_fault(tmp_path, 12, "r8", "kill-actor-always")
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
    def too_long(signum: int, frame: object) -> None:
        raise TimeoutError("the run did not stop within 180 s: actor restarts are not bounded")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(180)  # on a main without the bound this run never ended
    try:
        code = main(["run", str(cfg), "--output", str(tmp_path / "out"), "--set", "runtime.executor=ray",
                     "--set", "runtime.ray.actors=1", "--set", "runtime.ray.max_restarts=1"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert sum(ln.startswith("ray: a scoring actor died") for ln in err) == 1, err
    assert err[-1].startswith("error: ") and "block 1 (6 pairs" in err[-1] and "max_restarts 1" in err[-1], err
    assert "Traceback" not in "\n".join(err)


def test_ray_run_records_its_pool_and_versions_and_keeps_ray_noise_off_the_terminal(
        tmp_path: Path, tiny_nli_dir: Path, ray_cluster: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 24)
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
    assert main(["run", str(cfg), "--output", str(tmp_path / "ray"), "--set", "runtime.executor=ray",
                 "--set", "runtime.ray.actors=2"]) == 0
    err = capfd.readouterr().err  # file-descriptor level: what Ray's C++ core writes is seen here too
    assert "core_worker" not in err and "actor restart will fail" not in err, err
    rec = load_run(run_folder(tmp_path / "ray")).record
    assert {"ray", "onnxruntime", "pyarrow"} <= set(rec.packages)
    ex = rec.executor
    assert ex["name"] == "ray" and ex["address"] == "local" and ex["actors"] == 2 and ex["actor_restarts"] == 0
    assert sorted(b for a in ex["per_actor"] for b in a["blocks"]) == [0, 1, 2, 3]
    assert all(a["busy_s"] > 0 and a["idle_s"] >= 0 for a in ex["per_actor"])
    assert main(["run", str(cfg), "--output", str(tmp_path / "local")]) == 0
    assert load_run(run_folder(tmp_path / "local")).record.executor == {"name": "local"}


def test_credentials_in_an_address_are_redacted() -> None:
    from harness.executors.ray import redact

    assert redact("ray://user:secret@head:10001") == "ray://<redacted>@head:10001"
    assert redact("head:6379") == "head:6379" and "secret" not in redact("u:secret@head:6379")


def test_scorer_that_cannot_be_built_on_an_actor_fails_like_a_local_run(
        tmp_path: Path, ray_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 8)
    cfg = write_config(tmp_path, data, model_dir=tmp_path / "no-such-model")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--output", str(out), "--set", "runtime.executor=ray"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "no-such-model" in last and "Traceback" not in last
    assert not out.exists() or not any(out.iterdir())


def test_unreachable_address_fails_fast_in_one_line() -> None:
    from harness.config import ConfigError
    from harness.executors.ray import check_address

    with pytest.raises(ConfigError, match=r"127\.0\.0\.1:1: no Ray cluster answers there"):
        check_address("127.0.0.1:1", timeout=2.0)
    with pytest.raises(ConfigError, match="<redacted>"):  # credentials in an address are never printed
        check_address("ray://user:secret@127.0.0.1:1", timeout=2.0)
    with pytest.raises(ConfigError, match="expected host:port"):
        check_address("nonsense", timeout=2.0)
    check_address(None)
    check_address("auto")


def test_resources_the_cluster_cannot_give_are_refused() -> None:
    from harness.config import ConfigError, RunConfig
    from harness.executors.ray import _pool

    class FakeRay:
        @staticmethod
        def cluster_resources() -> dict:
            return {"CPU": 2.0}

    def cfg(**runtime: object) -> RunConfig:
        return RunConfig.model_validate({"data": [{"name": "d", "type": "jsonl", "path": "x.jsonl"}],
                                         "scorers": [{"type": "overlap"}], "runtime": runtime})

    with pytest.raises(ConfigError, match="0 GPUs"):
        _pool(cfg(device="cuda"), FakeRay, 4)
    with pytest.raises(ConfigError, match="cpus_per_actor 4"):
        _pool(cfg(ray={"cpus_per_actor": 4}), FakeRay, 4)
    with pytest.raises(ConfigError, match="actors 3"):
        _pool(cfg(ray={"actors": 3}), FakeRay, 4)
    assert _pool(cfg(), FakeRay, 4) == (2, 0.0, 1)


def test_run_fails_in_bounded_time_when_no_actor_can_start(
        tmp_path: Path, tiny_nli_dir: Path, ray_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The cluster has the CPUs in total, but another job holds them: waiting is bounded, and said."""

    @ray.remote(num_cpus=2)
    class Squatter:
        def ready(self) -> bool:
            return True

    squatter = Squatter.remote()  # type: ignore[attr-defined]
    ray.get(squatter.ready.remote())
    try:
        data = write_pairs(tmp_path / "d.jsonl", 6)
        cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
        code = main(["run", str(cfg), "--output", str(tmp_path / "out"), "--set", "runtime.executor=ray",
                     "--set", "runtime.ray.actors=1", "--set", "runtime.ray.actor_start_timeout_s=5"])
    finally:
        ray.kill(squatter)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1 and "did not start within 5 s" in last and "0 CPU(s)" in last, last
