"""File-level reading shared by the loaders: gzip by magic bytes, bounded lines, UTF-8 errors by line and column,
and JSON (Lines or one array) whose every error — a repeated key, nesting too deep, a cut-off object — names its
file, line and column. :mod:`harness.data.loaders` turns the rows into pairs."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["CSV_FIELD_LIMIT", "MAX_RECORD_BYTES", "DataError", "Position", "bad_utf8_line", "is_gzip",
           "json_array_rows", "jsonl_rows", "open_binary", "open_text"]


class DataError(ValueError):
    """Bad input data; the message is one line naming file, row and field."""


CSV_FIELD_LIMIT = 1 << 28
"""Largest CSV field accepted (256 MiB; the csv module's default of 128 KiB rejects a long source)."""


MAX_RECORD_BYTES = 1 << 28
"""Longest JSONL line accepted (256 MiB, the CSV field limit): a longer line is refused naming its number
instead of growing memory without bound (a file without line ends, a device read by mistake)."""

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """By the first two bytes, not the name: a gzip file called ``.jsonl`` is still read."""
    if path.suffix == ".gz":
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(2) == _GZIP_MAGIC
    except OSError:
        return False


def open_binary(path: Path) -> Any:
    if is_gzip(path):
        return gzip.open(path, "rb")
    return path.open("rb")


def _lines(fh: Any, path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) with a bound on the length of one line."""
    n = 0
    while True:
        raw = fh.readline(MAX_RECORD_BYTES + 1)
        if not raw:
            return
        n += 1
        if len(raw) > MAX_RECORD_BYTES:
            raise DataError(f"{path}: line {n}: longer than {MAX_RECORD_BYTES >> 20} MiB (one record per line; "
                            "is this a JSON Lines file?)")
        yield n, raw


def open_text(path: Path) -> Any:
    """UTF-8 text; a leading byte-order mark is dropped (``utf-8-sig``); newlines are left to the reader."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


def _decode_line(raw: bytes, path: Path, n: int) -> str:
    try:
        return raw.decode("utf-8-sig" if n == 1 else "utf-8")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: line {n}: not valid UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
            "re-encode the file as UTF-8"
        ) from None


class Position:
    """Where the row being read sits in its file, as a user finds it in an editor ("line 8", "row 3 (line 5)");
    readers update it before yielding each row."""

    def __init__(self) -> None:
        self.text: str | None = None


class _DuplicateKey(Exception):
    """Raised by :func:`_unique_object` (inside the JSON reader) with the repeated key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a JSON object, refusing a key given twice (Python's reader keeps the last silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')


def _duplicate_key_offsets(text: str, key: str) -> tuple[int, int] | None:
    """Offsets in ``text`` (valid JSON) of the first and second occurrence of ``key`` in one object, found by a
    linear scan that tracks which object each key belongs to (only run once a duplicate is known to exist)."""
    stack: list[dict[str, int] | None] = []
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok in "{[":
            stack.append({} if tok == "{" else None)
        elif tok in "}]":
            if stack:
                stack.pop()
        elif stack and stack[-1] is not None:
            rest = text[m.end():m.end() + 64].lstrip()
            if not rest.startswith(":"):
                continue
            name = json.loads(tok)
            if name in stack[-1]:
                if name == key:
                    return stack[-1][name], m.start()
                continue
            stack[-1][name] = m.start()
    return None


def _line_col(text: str, offset: int, first_line: int = 1) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text`` whose first line is ``first_line``."""
    line = first_line + text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _parse_json(text: str, start: int, path: Path, first_line: int) -> tuple[Any, int]:
    """One JSON value of ``text`` from ``start`` (returns it and where it ends), refusing what Python's reader would
    take silently or crash on: a key given twice in one object (both positions named), nesting deeper than the
    reader can follow (a RecursionError otherwise)."""
    try:
        return _DECODER.raw_decode(text, start)
    except _DuplicateKey as e:
        at = _duplicate_key_offsets(text[start:], e.key)
        if at is None:  # pragma: no cover - the scan finds what the reader found
            where = f"line {_line_col(text, start, first_line)[0]}: key {e.key!r} appears twice in one object"
        else:
            (l1, c1), (l2, c2) = (_line_col(text, start + o, first_line) for o in at)
            both = f"columns {c1} and {c2}" if l1 == l2 else f"line {l1} column {c1} and line {l2} column {c2}"
            where = f"line {l2}: key {e.key!r} appears twice in one object ({both})"
        raise DataError(f"{path}: {where}; JSON keys must be unique (a reader would keep one silently): rename or "
                        "delete one") from None
    except RecursionError:
        line = _line_col(text, start, first_line)[0]
        raise DataError(f"{path}: line {line}: a value nested too deeply to read (hundreds of levels of [ or {{); "
                        "flatten it or drop the field") from None


_JSON_SPACE = re.compile(r"[ \t\r\n]*")


def jsonl_rows(path: Path, pos: Position) -> Iterator[dict[str, Any]]:
    """One JSON object per line; CRLF line ends and a BOM are accepted, a bad line is named by number."""
    with open_binary(path) as fh:
        for n, raw in _lines(fh, path):
            line = _decode_line(raw, path, n)
            if not line.strip():
                continue
            try:
                row, end = _parse_json(line, _JSON_SPACE.match(line).end(), path, n)  # type: ignore[union-attr]
                end = _JSON_SPACE.match(line, end).end()  # type: ignore[union-attr]
                if end != len(line):
                    raise json.JSONDecodeError("Extra data", line, end)
            except json.JSONDecodeError as e:
                hint = " (the last line is cut off: was the file truncated?)" if not raw.endswith(b"\n") else ""
                raise DataError(f"{path}: line {n}: not valid JSON ({e.msg}){hint}") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}: line {n}: expected a JSON object, got {type(row).__name__}")
            pos.text = f"line {n}"
            yield row


def json_array_rows(path: Path, pos: Position) -> Iterator[dict[str, Any]]:
    """A JSON file holding one list of objects (what the ``datasets`` json builder also reads); items are named
    by the line they start on."""
    with open_binary(path) as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"{path}: line {line}: not valid UTF-8 (byte 0x{raw[e.start]:02x}); re-encode the file as "
                        "UTF-8") from None
    del raw
    ws = _JSON_SPACE
    i = ws.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", i):
        raise DataError(f"{path}: line {_line_col(text, i)[0]}: expected a JSON list of objects or JSON Lines")
    i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
    n = 0
    while True:
        if text.startswith("]", i):
            break
        line = _line_col(text, i)[0]
        try:
            row, i = _parse_json(text, i, path, 1)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from None
        n += 1
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {line}: item {n}: expected a JSON object, got {type(row).__name__}")
        pos.text = f"item {n} (line {line})"
        yield row
        i = ws.match(text, i).end()  # type: ignore[union-attr]
        if text.startswith(",", i):
            i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
        elif not text.startswith("]", i):
            raise DataError(f"{path}: line {_line_col(text, i)[0]}: not valid JSON (expected ',' or ']' after item "
                            f"{n})")
    if text[i + 1:].strip():
        raise DataError(f"{path}: line {_line_col(text, i + 1)[0]}: not valid JSON (extra data after the list)")


def bad_utf8_line(path: Path) -> DataError | None:
    """The error naming the first line (and column) that is not valid UTF-8, found by reading the file again as
    bytes (a text reader decodes in blocks and knows no line); None if every line decodes."""
    try:
        with open_binary(path) as fh:
            for n, raw in _lines(fh, path):
                _decode_line(raw, path, n)
    except DataError as e:
        return e
    except (OSError, EOFError, zlib.error):
        return None
    return None
