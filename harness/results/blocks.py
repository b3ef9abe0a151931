"""Finished blocks of a run in progress, and their assembly into the run folder.

Each finished block is written to a hidden work folder ``<output_dir>/.work-<key>/`` (key: config hash,
harness version and commit) as ``NNNNNN.claims.{jsonl,parquet}``, ``NNNNNN.pairs.{jsonl,parquet}`` and,
last, ``NNNNNN.json`` (its statistics and the digest of its input pairs). A block counts as finished only
when its ``.json`` exists and its input digest matches, so a rerun of a killed run skips exactly the
blocks that were complete. :meth:`BlockStore.assemble` streams the parts, in block order, into the final
files; the run folder itself appears only by an atomic rename (:func:`harness.results.writer.write_run`).

Nothing here is written through a symbolic link (:mod:`harness.results.safe_io`): the work folder must be a
real folder, the lock is opened with ``O_NOFOLLOW`` and never truncated, block files are written to
``mkstemp`` temp files and renamed into place, and a link at any block file's name is an error naming it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from harness.results.safe_io import (
    UnsafeWriteError,
    atomic_file,
    atomic_write_bytes,
    ensure_dir,
    open_lock,
    open_new,
    refuse_link,
)
from harness.results.schema import ClaimRow, PairRow

__all__ = ["BlockStore", "RunLockedError", "UnsafeWriteError"]


class RunLockedError(RuntimeError):
    """Another process is running the same config into the same output folder."""


def _jsonl(rows: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


class BlockStore:
    """The work folder of one run: finished blocks by index, a lock, and the final assembly."""

    def __init__(self, folder: Path, formats: Sequence[str] = ("jsonl", "parquet")) -> None:
        self.folder = folder
        self.formats = tuple(formats)
        self._lock_fh: Any = None
        self._created: list[Path] = []
        """Folders above the work folder that this store created (removed again if left empty)."""

    def __enter__(self) -> BlockStore:
        parent = self.folder.parent
        while not parent.exists():
            self._created.append(parent)
            parent = parent.parent
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        ensure_dir(self.folder, "the blocks of a run in progress")
        self._lock_fh = open_lock(self.folder / "lock")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_fh.close()
            self._lock_fh = None
            raise RunLockedError(f"{self.folder}: another run of this config is writing here; wait for it or "
                                 "use another --output") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def _path(self, index: int, what: str) -> Path:
        return self.folder / f"{index:06d}.{what}"

    def finished(self, index: int, digest: str) -> dict[str, Any] | None:
        """The statistics of block ``index`` if it was finished for the same input pairs, else None."""
        meta = self._path(index, "json")
        parts = [self._path(index, f"{kind}.{fmt}") for kind in ("claims", "pairs") for fmt in self.formats]
        for p in (meta, *parts):
            refuse_link(p, "a finished block")
        if not meta.is_file():
            return None
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if data.get("digest") != digest or data.get("formats") != list(self.formats):
            return None
        if not all(p.is_file() for p in parts):
            return None
        stats: dict[str, Any] = data["stats"]
        return stats

    def write(self, index: int, digest: str, claims: list[dict[str, Any]], pairs: list[dict[str, Any]],
              stats: dict[str, Any]) -> None:
        """Write one finished block (rows as JSON dicts); the ``.json`` goes last and marks it done."""
        for kind, rows, model in (("claims", claims, ClaimRow), ("pairs", pairs, PairRow)):
            if "jsonl" in self.formats:
                atomic_write_bytes(self._path(index, f"{kind}.jsonl"), _jsonl(rows), "a block")
            if "parquet" in self.formats:
                import pyarrow.parquet as pq

                from harness.results.parquet import table_of

                with atomic_file(self._path(index, f"{kind}.parquet"), "a block") as fh:
                    pq.write_table(table_of(rows, model), fh)
        meta = {"index": index, "digest": digest, "formats": list(self.formats), "stats": stats}
        atomic_write_bytes(self._path(index, "json"), json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                           "a block")

    def assemble(self, target: Path, n_blocks: int) -> None:
        """Concatenate blocks ``0 .. n_blocks-1`` into ``target/{claims,pairs}.{jsonl,parquet}`` (streaming:
        one block in memory at a time; each block is one Parquet row group)."""
        for kind, model in (("claims", ClaimRow), ("pairs", PairRow)):
            if "jsonl" in self.formats:
                with open_new(target / f"{kind}.jsonl") as out:
                    for i in range(n_blocks):
                        with open(self._path(i, f"{kind}.jsonl"), "rb") as part:
                            shutil.copyfileobj(part, out)
            if "parquet" in self.formats:
                import pyarrow.parquet as pq

                from harness.results.parquet import arrow_schema

                with open_new(target / f"{kind}.parquet") as fh, pq.ParquetWriter(fh, arrow_schema(model)) as writer:
                    for i in range(n_blocks):
                        writer.write_table(pq.read_table(self._path(i, f"{kind}.parquet")))

    def iter_pairs(self, n_blocks: int) -> Iterator[dict[str, Any]]:
        """Pair rows of blocks ``0 .. n_blocks-1`` as JSON dicts, one block at a time."""
        for i in range(n_blocks):
            if "jsonl" in self.formats:
                with open(self._path(i, "pairs.jsonl"), encoding="utf-8") as fh:
                    for line in fh:
                        yield json.loads(line)
            else:
                from harness.results.parquet import iter_parquet

                yield from iter_parquet(self._path(i, "pairs.parquet"), PairRow)

    def first_claims(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` claim rows (for the terminal summary)."""
        out: list[dict[str, Any]] = []
        i = 0
        while len(out) < limit and self._path(i, "json").is_file():
            if "jsonl" in self.formats:
                with open(self._path(i, "claims.jsonl"), encoding="utf-8") as fh:
                    out.extend(json.loads(line) for line in fh)
            else:
                from harness.results.parquet import iter_parquet

                out.extend(iter_parquet(self._path(i, "claims.parquet"), ClaimRow))
            i += 1
        return out[:limit]

    def remove(self) -> None:
        """Delete the work folder (after the run folder is in place)."""
        self.__exit__()
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)
        for folder in self._created:  # innermost first; a failed run leaves no empty output folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
