"""Persistent cache: hits, misses, key sensitivity, and resuming a run that was SIGKILLed midway."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tiny_models import FakeBackend, fake_output, make_items, tiny_pair_backend

from harness.engine import Engine
from harness.engine.cache import OutputCache, cache_digest

REPO = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_hit_miss_and_roundtrip(tmp_path: Path) -> None:
    items = make_items(50, seed=2, dup_every=6)
    with OutputCache(tmp_path / "c.sqlite") as cache:
        first = FakeBackend()
        e1 = Engine(128, cache=cache)
        out1 = e1.run(first, items)
        assert e1.stats.cache_hits == 0 and e1.stats.computed == len(set(items))
        assert len(cache) == len(set(items))
        second = FakeBackend()
        e2 = Engine(128, cache=cache)
        out2 = e2.run(second, [*items, ("new", "pair")])
        assert second.computed == [("new", "pair")]
        assert e2.stats.cache_hits == len(set(items))
        assert out2[:-1] == out1


def test_key_sensitivity(tmp_path: Path) -> None:
    items = make_items(20, seed=3)
    with OutputCache(tmp_path / "c.sqlite") as cache:
        Engine(cache=cache).run(FakeBackend(key="model@rev1|fp32"), items)
        other = FakeBackend(key="model@rev1|bf16")
        outs = Engine(cache=cache).run(other, items)
        assert sorted(other.computed) == sorted(set(items)), "a different dtype must miss"
        assert outs == [fake_output(it, other.key) for it in items]
        assert cache.get_many("model@rev2|fp32", items) == {}
    # Field boundaries are part of the key.
    assert cache_digest("k", ("a b",)) != cache_digest("k", ("a", "b"))
    assert cache_digest("k", ("a", "b")) != cache_digest("k2", ("a", "b"))


def test_real_model_outputs_identical_from_cache(tmp_path: Path) -> None:
    backend = tiny_pair_backend(seed=1, max_length=64)
    items = make_items(40, seed=4, dup_every=3)
    with OutputCache(tmp_path / "c.sqlite") as cache:
        fresh = Engine(256, cache=cache).run(backend, items)
        engine = Engine(256, cache=cache)
        cached = engine.run(backend, items)
        assert engine.stats.computed == 0 and cached == fresh  # exact: JSON floats round-trip


def test_reopen_persists(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with OutputCache(path) as cache:
        cache.put_many("k", {("a", "b"): {"x": 0.1 + 0.2}})
    with OutputCache(path) as cache:
        assert cache.get_many("k", [("a", "b"), ("c", "d")]) == {("a", "b"): {"x": 0.1 + 0.2}}


def _count(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigkill_then_resume_computes_only_missing(tmp_path: Path) -> None:
    path = tmp_path / "resume.sqlite"
    n = 200
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(REPO / "tests" / "tiny_models.py"), "--cache", str(path), "--n", str(n),
           "--delay", "0.03"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _count(path) < 40 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "worker finished before it could be killed; make it slower"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    items = make_items(n, seed=1, dup_every=7)
    distinct = set(items)
    with OutputCache(path) as cache:
        done = set(cache.get_many("fake/v1", list(distinct)))
        assert 40 <= len(done) < len(distinct)
        backend = FakeBackend()
        engine = Engine(64, cache=cache, window=32)
        resumed = engine.run(backend, items)
    assert not done & set(backend.computed), "an item already in the cache was recomputed"
    assert set(backend.computed) == distinct - done
    assert engine.stats.cache_hits == len(done)
    assert resumed == [fake_output(it, "fake/v1") for it in items]

    # The same command, rerun to completion, prints the same outputs and computes nothing new.
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout) == resumed


WRITER = """
import json, os, sys, time
from pathlib import Path
from harness.engine.cache import OutputCache
path, who, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
(go.parent / f"ready-{who}").touch()
while not go.exists():
    time.sleep(0.001)
cache = OutputCache(path)  # both processes open (and create the table) at the same moment
for k in range(60):
    rows = {(f"{who}-{k}-{i}", "x"): {"v": [k, i, who]} for i in range(40)}
    rows.update({(f"shared-{k}-{i}", "x"): {"v": [k, i]} for i in range(10)})
    cache.put_many("m", rows)
    got = cache.get_many("m", list(rows))
    assert got == {key: json.loads(json.dumps(v)) for key, v in rows.items()}, "read back differs"
cache.close()
print("ok")
"""


def test_two_processes_share_one_cache_file_without_corruption(tmp_path: Path) -> None:
    """Two runs sharing one cache file: both open it (creating the table) and write and read overlapping
    keys at the same time; WAL mode, ``BEGIN IMMEDIATE`` writes and the busy timeout serialise them."""
    path, go = tmp_path / "shared.sqlite", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, str(go)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("a", "b")]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{w}").exists() for w in "ab") and time.monotonic() < deadline:
        time.sleep(0.01)  # a barrier: start both writers together
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "ok", err[-2000:]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0] == 2 * 60 * 40 + 60 * 10
    with OutputCache(path) as cache:
        assert cache.get_many("m", [("b-59-39", "x")]) == {("b-59-39", "x"): {"v": [59, 39, "b"]}}
