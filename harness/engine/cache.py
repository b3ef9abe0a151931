"""Persistent, content-addressed output cache (sqlite3 in WAL mode).

Key = sha256 over the backend's ``cache_key`` and the input tuple, so a changed model, revision, dtype or
max length can never return stale outputs, and identical inputs across datasets and runs are computed
once. The engine commits after every batch: a run killed with SIGKILL loses at most the batch in flight
and a rerun of the same command computes only what is missing.

Several processes on one machine may share one file (two runs at once): WAL mode lets readers run beside
the one writer, writes are ``BEGIN IMMEDIATE`` transactions and a 60 s busy timeout queues them
(tests/test_engine_cache.py runs two writers at once and checks integrity). SQLite over a network file
system is not safe, so the ``ray`` executor, whose actors may sit on other nodes, does not use this cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from harness.engine.base import ModelInput, Output

__all__ = ["OutputCache", "cache_digest"]

_CHUNK = 500  # rows per SELECT ... IN (...); well under SQLite's bound-parameter limit


def cache_digest(cache_key: str, item: ModelInput) -> bytes:
    """Digest of (cache_key, item). JSON framing keeps field boundaries unambiguous: ("a b",) != ("a", "b")."""
    payload = json.dumps([cache_key, list(item)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).digest()


_BUSY_SECONDS = 60.0


def _while_locked(statement: Callable[[], object]) -> None:
    """Run a set-up statement, retrying while another process holds the lock. Switching a new file to WAL
    needs an exclusive lock and SQLite answers "database is locked" at once instead of waiting out the busy
    timeout when two processes open the same new cache together."""
    deadline = time.monotonic() + _BUSY_SECONDS
    delay = 0.005
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class CacheError(Exception):
    """The output cache file cannot be used (not a database, damaged): one line naming it and the remedy."""


def _unusable(path: Path, e: Exception) -> CacheError:
    return CacheError(
        f"{path}: the output cache cannot be used ({e}); it holds only derived model outputs, so delete it to "
        f"rebuild it, or point runtime.cache elsewhere (--set runtime.cache=OTHER.sqlite), or run with --no-cache"
    )


class OutputCache:
    """sqlite-backed ``get_many`` / ``put_many`` store; safe to share between threads and processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from harness.results.preflight import check_cache_file

        self.path = Path(path)
        check_cache_file(self.path)  # a regular file, never reached through a symbolic link
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, check_same_thread=False,
                                       isolation_level=None)
            _while_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
            # NORMAL is durable against process death (SIGKILL), only a power cut can lose the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
            _while_locked(lambda: self._db.execute(
                "CREATE TABLE IF NOT EXISTS outputs (key BLOB PRIMARY KEY, value TEXT NOT NULL)"))
            self._db.execute("SELECT key, value FROM outputs LIMIT 1").fetchall()
        except sqlite3.DatabaseError as e:
            raise _unusable(self.path, e) from None

    def get_many(self, cache_key: str, items: Iterable[ModelInput]) -> dict[ModelInput, Output]:
        """Cached outputs for those ``items`` that have one (missing items are simply absent)."""
        by_digest: dict[bytes, ModelInput] = {cache_digest(cache_key, it): it for it in items}
        found: dict[ModelInput, Output] = {}
        digests = list(by_digest)
        with self._lock:
            for start in range(0, len(digests), _CHUNK):
                chunk = digests[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, value FROM outputs WHERE key IN ({marks})", chunk)
                for key, value in rows:
                    found[by_digest[bytes(key)]] = json.loads(value)
        return found

    def put_many(self, cache_key: str, outputs: Mapping[ModelInput, Output]) -> None:
        """Store outputs in one committed transaction (JSON; floats round-trip exactly)."""
        rows = [
            (cache_digest(cache_key, it), json.dumps(out, separators=(",", ":"), allow_nan=True))
            for it, out in outputs.items()
        ]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO outputs (key, value) VALUES (?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def contains(self, cache_key: str, items: Sequence[ModelInput]) -> list[bool]:
        """Which items are cached (for reporting how much a resumed run will skip)."""
        found = self.get_many(cache_key, items)
        return [it in found for it in items]

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> OutputCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
