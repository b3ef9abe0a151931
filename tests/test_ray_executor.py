"""The Ray executor on a local 2-CPU cluster: identical files to the local executor, and a block whose actor
dies mid-run is retried (no claim missing or duplicated)."""

from __future__ import annotations

import os
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


def test_actor_killed_mid_run_is_retried_without_losing_or_repeating_claims(
        tmp_path: Path, tiny_nli_dir: Path, ray_cluster: Path) -> None:
    data = write_pairs(tmp_path / "d.jsonl", 30)
    text = data.read_text(encoding="utf-8").replace('"id": "r14"', '"id": "kill-actor-once"')
    data.write_text(text, encoding="utf-8")
    cfg = write_config(tmp_path, data, model_dir=tiny_nli_dir)
    assert not ray_cluster.exists()
    assert main(["run", str(cfg), "--output", str(tmp_path / "ray"), "--set", "runtime.executor=ray",
                 "--set", "runtime.ray.actors=2"]) == 0
    assert ray_cluster.exists(), "the fault hook never fired: the test did not kill an actor"
    assert main(["run", str(cfg), "--output", str(tmp_path / "local")]) == 0
    on_ray, local = load_run(run_folder(tmp_path / "ray")), load_run(run_folder(tmp_path / "local"))
    keys = Counter((c.pair_id, c.scorer, c.claim_index) for c in on_ray.iter_claims())
    assert max(keys.values()) == 1 and len(keys) == on_ray.record.counts["claim_rows"]
    assert [p.pair_id for p in on_ray.pairs] == [p.pair_id for p in local.pairs]
    for f in FILES:
        assert (on_ray.path / f).read_bytes() == (local.path / f).read_bytes(), f


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
