"""Claims and pairs as Parquet, with the same columns as the JSONL files.

The Arrow schema is derived from the row models (:mod:`harness.results.schema`), so a new field shows up in
both formats. Typed columns where the model has a fixed shape (strings, numbers, ``probs`` as a map,
``evidence`` as a struct, per-scorer ``scores`` as a map of structs); free-form ``dict[str, Any]`` fields
(``detail``) are JSON text. Reading back gives rows that validate to the same models as the JSONL.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

__all__ = ["arrow_schema", "from_arrow", "iter_parquet", "table_of", "to_arrow"]

_SCALARS: dict[Any, pa.DataType] = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _plan(tp: Any) -> tuple[str, pa.DataType, Any]:
    """(kind, arrow type, sub-plan) for an annotation; kind is plain | json | list | map | struct."""
    tp = _strip_optional(tp)
    if tp in _SCALARS:
        return "plain", _SCALARS[tp], None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        sub = _model_plan(tp)
        return "struct", pa.struct([pa.field(n, t) for n, (_, t, _) in sub.items()]), sub
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list and args and _strip_optional(args[0]) in _SCALARS:
        return "list", pa.list_(_SCALARS[_strip_optional(args[0])]), None
    if origin is dict and len(args) == 2 and args[0] is str:
        kind, vtype, sub = _plan(args[1])
        if kind in ("plain", "struct"):
            return "map", pa.map_(pa.string(), vtype), (kind, sub)
    return "json", pa.string(), None


@cache
def _model_plan(model: type[BaseModel]) -> dict[str, tuple[str, pa.DataType, Any]]:
    return {name: _plan(f.annotation) for name, f in model.model_fields.items()}


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, (_, t, _) in _model_plan(model).items()])


def _encode(value: Any, kind: str, sub: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, allow_nan=True)
    if kind == "struct":
        return to_arrow(value, sub)
    if kind == "map":
        vkind, vsub = sub
        return [(k, _encode(v, vkind, vsub)) for k, v in value.items()]
    return value


def _decode(value: Any, kind: str, sub: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.loads(value)
    if kind == "struct":
        return from_arrow(value, sub)
    if kind == "map":
        vkind, vsub = sub
        return {k: _decode(v, vkind, vsub) for k, v in value}
    return value


def to_arrow(row: dict[str, Any], plan: Any) -> dict[str, Any]:
    """A row as ``model_dump(mode="json")`` gives it -> values for :func:`pyarrow.Table.from_pylist`."""
    plan = _model_plan(plan) if isinstance(plan, type) else plan
    return {n: _encode(row.get(n), kind, sub) for n, (kind, _, sub) in plan.items()}


def from_arrow(row: dict[str, Any], plan: Any) -> dict[str, Any]:
    """The inverse of :func:`to_arrow`: a dict that validates to the row model."""
    plan = _model_plan(plan) if isinstance(plan, type) else plan
    return {n: _decode(row.get(n), kind, sub) for n, (kind, _, sub) in plan.items() if n in row}


def table_of(rows: list[dict[str, Any]], model: type[BaseModel]) -> pa.Table:
    return pa.Table.from_pylist([to_arrow(r, model) for r in rows], schema=arrow_schema(model))


def iter_parquet(path: Path, model: type[BaseModel], batch_size: int = 2048) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet file of ``model`` rows, decoded, one record batch at a time."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            yield from_arrow(row, model)
