"""Dataset loaders: seeds folder, JSONL (optionally gzipped), CSV, Parquet, and `datasets`.

Every loader yields plain row dicts; :func:`rows_to_pairs` applies the field mapping and is where bad
input is caught, with one line naming the file, row and field.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.config import DataConfig
from harness.types import Pair

__all__ = ["DataError", "iter_pairs", "load_pairs", "rows_to_pairs"]


class DataError(ValueError):
    """Bad input data; the message is one line naming file, row and field."""


def _open_text(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    with _open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}: line {n}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}: line {n}: expected a JSON object, got {type(row).__name__}")
            yield row


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    with _open_text(path) as fh:
        yield from csv.DictReader(fh)


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):  # lazily: never the whole file
        yield from batch.to_pylist()


def _hf_rows(cfg: DataConfig) -> Iterator[dict[str, Any]]:
    import datasets

    if cfg.path and not cfg.hf_name:
        suffix = "".join(Path(cfg.path).suffixes)
        builder = "csv" if ".csv" in suffix else "parquet" if ".parquet" in suffix else "json"
        ds = datasets.load_dataset(builder, data_files=cfg.path, split=cfg.split)
    else:
        assert cfg.hf_name is not None
        try:
            ds = datasets.load_dataset(cfg.hf_name, cfg.hf_config, split=cfg.split, revision=cfg.revision,
                                       data_files=cfg.path)
        except Exception as e:  # the datasets library raises many types; one line is what the user needs
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise DataError(f"dataset {cfg.hf_name!r} (split {cfg.split!r}) cannot be loaded: {first}") from None
    yield from ds


def _seed_pair(cfg: DataConfig) -> Iterator[dict[str, Any]]:
    folder = Path(cfg.path) if cfg.path else None
    src = Path(cfg.source_file) if cfg.source_file else None
    rw = Path(cfg.rewrite_file) if cfg.rewrite_file else None
    if folder is not None and (src is None or rw is None):
        sources = sorted(folder.glob("000_*.txt"))
        rewrites = sorted(folder.glob("002_*.txt"))
        if not sources or not rewrites:
            raise DataError(f"{folder}: seeds folder needs a 000_*.txt source and a 002_*.txt rewrite")
        src, rw = src or sources[0], rw or rewrites[0]
    assert src is not None and rw is not None
    yield {
        "id": f"{src.stem}~{rw.stem}",
        "source": src.read_text(encoding="utf-8"),
        "rewrite": rw.read_text(encoding="utf-8"),
    }


def _rows(cfg: DataConfig) -> tuple[Iterable[dict[str, Any]], str]:
    if cfg.type == "seeds":
        return _seed_pair(cfg), str(cfg.path or cfg.source_file)
    if cfg.type == "hf":
        return _hf_rows(cfg), str(cfg.hf_name or cfg.path)
    assert cfg.path is not None
    path = Path(cfg.path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder; type {cfg.type!r} needs a file")
    reader = {"jsonl": _jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}[cfg.type]
    return reader(path), str(path)


def _label(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        low = value.strip().lower()
        named = {"faithful": 1.0, "consistent": 1.0, "correct": 1.0, "true": 1.0, "yes": 1.0,
                 "unfaithful": 0.0, "inconsistent": 0.0, "incorrect": 0.0, "false": 0.0, "no": 0.0}
        if low in named:
            return named[low]
        try:
            value = float(low)
        except ValueError:
            raise DataError(f"{where}: label {value!r} is not a number or faithful/unfaithful") from None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: label {value!r} is not a number") from None
    if math.isnan(f):
        return None
    return f


def rows_to_pairs(rows: Iterable[dict[str, Any]], cfg: DataConfig, origin: str) -> list[Pair]:
    """Apply the field mapping; check every row; refuse duplicate ids."""
    return list(_pairs_from_rows(rows, cfg, origin))


def _pairs_from_rows(rows: Iterable[dict[str, Any]], cfg: DataConfig, origin: str) -> Iterator[Pair]:
    """:func:`rows_to_pairs`, one pair at a time (memory holds the ids seen, not the pairs)."""
    fm = cfg.fields
    n_pairs = 0
    seen: set[str] = set()
    for n, row in enumerate(rows, 1):
        where = f"{origin}: row {n}"
        if cfg.type == "seeds":
            src, rw, pid, label, group = row["source"], row["rewrite"], row["id"], None, None
        else:
            for name, col in (("source", fm.source), ("rewrite", fm.rewrite)):
                if col not in row:
                    raise DataError(
                        f"{where}: missing field {col!r} (mapped as {name}; set data.fields.{name}); "
                        f"row has {sorted(row)[:8]}"
                    )
            src, rw = row[fm.source], row[fm.rewrite]
            if fm.id and fm.id in row and row[fm.id] not in (None, ""):
                pid = str(row[fm.id])
            else:
                pid = f"{cfg.name}-{n}"
            label = _label(row.get(fm.label), where) if fm.label else None
            group = str(row[fm.group]) if fm.group and row.get(fm.group) is not None else None
        for name, val in (("source", src), ("rewrite", rw)):
            if not isinstance(val, str):
                raise DataError(f"{where}: field {name!r} must be text, got {type(val).__name__}")
            if not val.strip():
                raise DataError(f"{where}: field {name!r} is empty")
        if pid in seen:
            raise DataError(f"{where}: duplicate id {pid!r}")
        seen.add(pid)
        yield Pair(id=pid, source=src, rewrite=rw, dataset=cfg.name, label=label, group=group)
        n_pairs += 1
        if cfg.limit is not None and n_pairs >= cfg.limit:
            break
    if not n_pairs:
        raise DataError(f"{origin}: no pairs found")


def iter_pairs(cfg: DataConfig) -> tuple[Iterator[Pair], str]:
    """One dataset's pairs, read lazily (the streaming executors' input), and where they come from; errors
    as :func:`load_pairs`, raised when the bad row is reached."""
    rows, origin = _rows(cfg)

    def pairs() -> Iterator[Pair]:
        try:
            yield from _pairs_from_rows(rows, cfg, origin)
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise DataError(f"{origin}: cannot read ({e})") from None

    return pairs(), origin


def load_pairs(cfg: DataConfig) -> tuple[list[Pair], str]:
    """Load one dataset; returns the pairs and a description of where they came from."""
    rows, origin = _rows(cfg)
    try:
        return rows_to_pairs(rows, cfg, origin), origin
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{origin}: cannot read ({e})") from None
