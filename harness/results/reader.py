"""Read a run folder back: ``run.json`` eagerly, pairs on first use, claims lazily.

Rows come from ``pairs.jsonl``/``claims.jsonl`` or, when a run has only those, from ``pairs.parquet``/
``claims.parquet`` (same columns).

Readers refuse run formats they do not know and name the file and line of a malformed row, so that
``compare``/``history``/``report`` fail with one clear line instead of a traceback.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.results.schema import RESULTS_VERSION, ClaimRow, PairRow, RunRecord

__all__ = ["Run", "RunError", "iter_jsonl", "iter_parquet_rows", "list_runs", "load_record", "load_run", "resolve_run"]

RUN_FILE = "run.json"
PAIRS_FILE = "pairs.jsonl"
CLAIMS_FILE = "claims.jsonl"
PAIRS_PARQUET = "pairs.parquet"
CLAIMS_PARQUET = "claims.parquet"


class RunError(ValueError):
    """A run folder that cannot be read: the message names the file and what is wrong (one line)."""


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "(root)"
    return f"{loc}: {err['msg']}"


def load_record(path: Path | str) -> RunRecord:
    """``run.json`` of a run folder (or the file itself), checked for a known format version."""
    p = Path(path)
    f = p / RUN_FILE if p.is_dir() else p
    if not f.is_file():
        raise RunError(f"{f}: not found (is {p} a run folder?)")
    try:
        raw = json.loads(f.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise RunError(f"{f}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at {e.start}): the run record is "
                       f"damaged; restore it or delete its folder {f.parent}") from None
    except (OSError, json.JSONDecodeError) as e:
        raise RunError(f"{f}: not valid JSON ({e})") from None
    if not isinstance(raw, dict):
        raise RunError(f"{f}: expected a JSON object")
    version = raw.get("version")
    if version != RESULTS_VERSION:
        raise RunError(
            f"{f}: results format version {version!r} is not supported (this harness reads {RESULTS_VERSION})"
        )
    try:
        return RunRecord.model_validate(raw)
    except ValidationError as e:
        raise RunError(f"{f}: {_first_error(e)}") from None


def iter_jsonl(path: Path, model: type[BaseModel]) -> Iterator[Any]:
    """Rows of a JSON Lines file validated as ``model``; a bad line raises :class:`RunError` naming it."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as e:
        raise RunError(f"{path}: cannot open ({e.strerror})") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield model.model_validate_json(line)
            except ValidationError as e:
                raise RunError(f"{path}:{lineno}: {_first_error(e)}") from None


def iter_parquet_rows(path: Path, model: type[BaseModel]) -> Iterator[Any]:
    """Rows of a Parquet results file validated as ``model``; a bad row raises :class:`RunError` naming it."""
    from harness.results.parquet import iter_parquet

    try:
        for n, row in enumerate(iter_parquet(path, model), 1):
            try:
                yield model.model_validate(row)
            except ValidationError as e:
                raise RunError(f"{path}: row {n}: {_first_error(e)}") from None
    except (OSError, ValueError) as e:
        if isinstance(e, RunError):
            raise
        raise RunError(f"{path}: cannot read as Parquet ({e})") from None


def _rows(folder: Path, jsonl: str, parquet: str, model: type[BaseModel]) -> Iterator[Any]:
    if (folder / jsonl).is_file():
        yield from iter_jsonl(folder / jsonl, model)
    elif (folder / parquet).is_file():
        yield from iter_parquet_rows(folder / parquet, model)
    else:  # a run folder without its rows answers nothing: say so rather than "0 of 0"
        raise RunError(f"{folder}: neither {jsonl} nor {parquet} is there (files deleted or moved?); the run "
                       "cannot be read back")


@dataclass
class Run:
    """A run folder: the record, its pairs (read once, on first use) and its claims (streamed)."""

    path: Path
    record: RunRecord
    _pairs: list[PairRow] | None = field(default=None, repr=False)

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def pairs(self) -> list[PairRow]:
        if self._pairs is None:
            self._pairs = list(_rows(self.path, PAIRS_FILE, PAIRS_PARQUET, PairRow))
        return self._pairs

    def iter_claims(self) -> Iterator[ClaimRow]:
        yield from _rows(self.path, CLAIMS_FILE, CLAIMS_PARQUET, ClaimRow)

    @property
    def claims(self) -> list[ClaimRow]:
        return list(self.iter_claims())

    def models(self) -> list[str]:
        """``id@revision`` of every model of every scorer (for tables)."""
        out = []
        for s in self.record.scorers:
            for m in s.models:
                out.append(f"{m.id}@{m.revision[:12]}" if m.revision else m.id)
        return out


def load_run(path: Path | str) -> Run:
    p = Path(path)
    return Run(path=p if p.is_dir() else p.parent, record=load_record(p))


def list_runs(results_dir: Path | str) -> list[Path]:
    """Run folders directly under ``results_dir`` (those with a ``run.json``), sorted by name."""
    d = Path(results_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if (p / RUN_FILE).is_file())


def resolve_run(ref: str, results_dir: Path | str = "results") -> Path:
    """A run folder from a path or a run id under ``results_dir`` (unique prefix allowed)."""
    p = Path(ref)
    if (p / RUN_FILE).is_file() or (p.is_file() and p.name == RUN_FILE):
        return p if p.is_dir() else p.parent
    root = Path(results_dir)
    if (root / ref / RUN_FILE).is_file():
        return root / ref
    runs = list_runs(root)
    hits = [r for r in runs if r.name.startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise RunError(f"{ref}: ambiguous run id under {root} ({', '.join(h.name for h in hits[:5])}, ...)")
    close = difflib.get_close_matches(ref, [r.name for r in runs], n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise RunError(f"{ref}: no run folder with a run.json (looked at {p} and {root / ref}){hint}")
