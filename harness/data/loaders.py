"""Dataset loaders: seeds folder, JSONL (optionally gzipped), CSV, Parquet, and `datasets`.

Every loader yields plain row dicts; :func:`rows_to_pairs` applies the field mapping and is where bad
input is caught, with one line naming the file, row and field.
"""

from __future__ import annotations

import csv
import math
import re
import reprlib
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.config import DataConfig
from harness.data.readers import (
    CSV_FIELD_LIMIT,
    DataError,
    Position,
    bad_utf8_line,
    json_array_rows,
    jsonl_rows,
    open_binary,
    open_text,
)
from harness.types import Pair

__all__ = ["LABEL_VOCABULARY", "LABEL_WORDS", "DataError", "iter_pairs", "load_pairs", "parse_label", "rows_to_pairs"]


def _csv_rows(path: Path, pos: Position) -> Iterator[dict[str, Any]]:
    """A header row then one record per row; quoted fields may hold newlines (RFC 4180). A column named twice in
    the header is refused (a dict reader would keep the last silently)."""
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    with open_text(path) as fh:
        reader = csv.DictReader(fh)
        try:
            first: dict[str, int] = {}
            for i, name in enumerate(reader.fieldnames or [], 1):
                if not name.strip():  # unnamed columns (trailing commas) cannot be mapped; they repeat harmlessly
                    continue
                if name in first:
                    raise DataError(f"{path}: line {reader.line_num}: column {name!r} appears twice in the header "
                                    f"(columns {first[name]} and {i}); a reader would keep one silently: rename "
                                    "or delete one")
                first[name] = i
            for n, row in enumerate(reader, 1):
                pos.text = f"row {n} (line {reader.line_num})"
                if None in row:
                    raise DataError(f"{path}: {pos.text}: more values than header columns "
                                    f"({len(reader.fieldnames or [])})")
                yield row
        except csv.Error as e:
            raise DataError(f"{path}: line {reader.line_num}: not valid CSV ({e})") from None
        except UnicodeDecodeError as e:
            named = bad_utf8_line(path)
            if named is not None:
                raise named from None
            raise DataError(f"{path}: not valid UTF-8 (byte 0x{e.object[e.start]:02x}); "
                            "re-encode the file as UTF-8") from None


def _parquet_rows(path: Path, pos: Position) -> Iterator[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise DataError(f"{path}: not a readable Parquet file ({first})") from None
    n = 0
    for batch in pf.iter_batches(batch_size=4096):  # lazily: never the whole file
        for row in batch.to_pylist():
            n += 1
            pos.text = f"row {n}"
            yield row


_HF_BUILDERS = ("json", "csv", "parquet")
_SPLIT_HEAD = re.compile(r"train\[:(\d+)\]")


def _local_builder(cfg: DataConfig) -> str | None:
    """``json``/``csv``/``parquet`` when ``type: hf`` names local files (``path`` without ``hf_name``, or with a
    builder name as ``hf_name``), else None (a hub dataset)."""
    if not cfg.path or (cfg.hf_name and cfg.hf_name not in _HF_BUILDERS):
        return None
    if cfg.hf_name:
        return cfg.hf_name
    suffix = "".join(Path(cfg.path).suffixes)
    return "csv" if ".csv" in suffix else "parquet" if ".parquet" in suffix else "json"


def _local_files(pattern: str) -> list[Path]:
    p = Path(pattern)
    if p.is_file():
        return [p]
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
    import glob

    return sorted(Path(f) for f in glob.glob(pattern, recursive=True) if Path(f).is_file())


def _json_rows(path: Path, pos: Position) -> Iterator[dict[str, Any]]:
    """The ``datasets`` json builder's two shapes: JSON Lines, or one list of objects."""
    with open_binary(path) as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return json_array_rows(path, pos) if head.startswith(b"[") else jsonl_rows(path, pos)


def _local_hf_rows(cfg: DataConfig, builder: str, pos: Position) -> Iterator[dict[str, Any]]:
    """Local files given as ``type: hf`` are read by the harness's own readers (errors name file and line; no Arrow
    copy is written under ``~/.cache/huggingface``). A local file has one split, ``train`` (``train[:N]`` keeps the
    first N rows)."""
    assert cfg.path is not None
    head = _SPLIT_HEAD.fullmatch(cfg.split.replace(" ", ""))
    if cfg.split != "train" and head is None:
        raise DataError(f"{cfg.path}: split {cfg.split!r}: local data files have one split, 'train' (data.limit "
                        "keeps the first N pairs)")
    files = _local_files(cfg.path)
    if not files:
        raise DataError(f"{cfg.path}: no such file (type 'hf' with a path reads local files)")
    reader = {"json": _json_rows, "csv": _csv_rows, "parquet": _parquet_rows}[builder]
    left = int(head.group(1)) if head is not None else None
    for f in files:
        sub = Position()
        for row in reader(f, sub):
            if left is not None:
                if left <= 0:
                    return
                left -= 1
            pos.text = sub.text if len(files) == 1 else f"{f.name}: {sub.text}"
            yield row


def _hf_rows(cfg: DataConfig, pos: Position) -> Iterator[dict[str, Any]]:
    builder = _local_builder(cfg)
    if builder is not None:
        yield from _local_hf_rows(cfg, builder, pos)
        return
    import datasets

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


def _rows(cfg: DataConfig, pos: Position) -> tuple[Iterable[dict[str, Any]], str]:
    if cfg.type == "seeds":
        return _seed_pair(cfg), str(cfg.path or cfg.source_file)
    if cfg.type == "hf":
        return _hf_rows(cfg, pos), str(cfg.path if _local_builder(cfg) else cfg.hf_name)
    assert cfg.path is not None
    path = Path(cfg.path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder; type {cfg.type!r} needs a file")
    reader = {"jsonl": jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}[cfg.type]
    return reader(path, pos), str(path)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel = 3


LABEL_WORDS: dict[str, float] = {
    "true": 1.0, "false": 0.0,
    "faithful": 1.0, "unfaithful": 0.0,
    "consistent": 1.0, "inconsistent": 0.0,
    "supported": 1.0, "unsupported": 0.0,
    "correct": 1.0, "incorrect": 0.0,
}
"""Named labels (matched case-insensitively, surrounding spaces ignored). "yes"/"no" are refused on purpose:
in a yes/no column it is not clear whether "yes" means *faithful* or *has an error*."""

LABEL_VOCABULARY = (
    "a finite number (1 = faithful, 0 = not; graded values such as 0.5 or Likert 1-5 are kept), "
    + "/".join(k for k, v in LABEL_WORDS.items() if v == 1.0) + " (= 1), "
    + "/".join(k for k, v in LABEL_WORDS.items() if v == 0.0) + " (= 0); null, \"\" or NaN = unlabelled"
)
"""What a label may be, as printed in error messages and docs/input-rules.md."""


def parse_label(value: Any, where: str, column: str = "label") -> float | None:
    """A gold label as a float (None = unlabelled); anything outside :data:`LABEL_VOCABULARY` is a
    :class:`DataError` naming the row, the column and the value, since a silently mis-read label
    corrupts every metric."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    f: float | None = None
    if isinstance(value, int | float):
        f = float(value)
    elif isinstance(value, str):
        low = value.strip().lower()
        if low in ("", "nan"):
            return None
        if low in LABEL_WORDS:
            return LABEL_WORDS[low]
        try:
            f = float(low)
        except ValueError:
            f = None
    if f is not None and math.isnan(f):
        return None
    if f is None or not math.isfinite(f):
        shown = _SHORT.repr(value)
        raise DataError(f"{where}: field {column!r}: value {shown} is not a label (allowed: {LABEL_VOCABULARY})")
    return f


def _check_text(value: Any, where: str, name: str, column: str) -> str:
    """Source/rewrite text: a non-empty string without NUL characters or unpaired surrogates."""
    label = f"field {column!r}" + (f" ({name})" if column != name else "")
    if value is None:
        raise DataError(f"{where}: {label} is empty (null)")
    if not isinstance(value, str):
        raise DataError(f"{where}: {label} must be text, got {type(value).__name__}")
    if not value.strip():
        raise DataError(f"{where}: {label} is empty" + (" (whitespace only)" if value else ""))
    if "\x00" in value:
        raise DataError(f"{where}: {label} contains a NUL character at offset {value.index(chr(0))} "
                        "(binary data?)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DataError(f"{where}: {label} has an unpaired surrogate at offset {e.start} "
                        "(not valid Unicode text)") from None
    return value


def rows_to_pairs(rows: Iterable[dict[str, Any]], cfg: DataConfig, origin: str,
                  position: Position | None = None) -> list[Pair]:
    """Apply the field mapping; check every row; refuse duplicate ids. Errors name the row by ``position``
    (set by the file readers) or else by its number."""
    return list(_pairs_from_rows(rows, cfg, origin, position))


def _pairs_from_rows(rows: Iterable[dict[str, Any]], cfg: DataConfig, origin: str,
                     position: Position | None = None) -> Iterator[Pair]:
    """:func:`rows_to_pairs`, one pair at a time (memory holds the ids seen, not the pairs)."""
    fm = cfg.fields
    n_pairs = 0
    seen: set[str] = set()
    for n, row in enumerate(rows, 1):
        where = f"{origin}: {position.text if position is not None and position.text else f'row {n}'}"
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
                if isinstance(row[fm.id], bool) or not isinstance(row[fm.id], str | int | float):
                    raise DataError(f"{where}: field {fm.id!r} (id) must be text or a number, "
                                    f"got {type(row[fm.id]).__name__}")
                pid = str(row[fm.id])
            else:
                pid = f"{cfg.name}-{n}"
            label = parse_label(row.get(fm.label), where, fm.label) if fm.label else None
            group = str(row[fm.group]) if fm.group and row.get(fm.group) is not None else None
        src = _check_text(src, where, "source", fm.source if cfg.type != "seeds" else "source")
        rw = _check_text(rw, where, "rewrite", fm.rewrite if cfg.type != "seeds" else "rewrite")
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
    pos = Position()
    rows, origin = _rows(cfg, pos)

    def pairs() -> Iterator[Pair]:
        try:
            yield from _pairs_from_rows(rows, cfg, origin, pos)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as e:
            raise DataError(f"{origin}: cannot read ({type(e).__name__}: {e})") from None
        except RecursionError:
            raise _too_deep(origin, pos) from None

    return pairs(), origin


def load_pairs(cfg: DataConfig) -> tuple[list[Pair], str]:
    """Load one dataset; returns the pairs and a description of where they came from."""
    pos = Position()
    rows, origin = _rows(cfg, pos)
    try:
        return rows_to_pairs(rows, cfg, origin, pos), origin
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{origin}: cannot read ({type(e).__name__}: {e})") from None
    except RecursionError:
        raise _too_deep(origin, pos) from None


def _too_deep(origin: str, pos: Position) -> DataError:
    """A value nested too deeply to handle (a Parquet or ``datasets`` row, or a field used as text)."""
    return DataError(f"{origin}: {pos.text or 'a row'}: a value nested too deeply to read (hundreds of levels); "
                     "flatten it or drop the field")
