"""Loaders: field mapping, labels, and one-line errors naming file, row and field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.config import DataConfig, FieldMap
from harness.data import DataError, load_pairs


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_field_mapping_and_labels(tmp_path: Path) -> None:
    p = _jsonl(tmp_path / "d.jsonl", [
        {"doc": "A cat sat.", "summ": "A cat.", "y": 1, "key": "a"},
        {"doc": "A dog ran.", "summ": "A cat.", "y": "unfaithful", "key": "b"},
        {"doc": "A dog ran.", "summ": "A dog.", "key": "c"},
    ])
    cfg = DataConfig(name="d", type="jsonl", path=str(p),
                     fields=FieldMap(id="key", source="doc", rewrite="summ", label="y"))
    pairs, origin = load_pairs(cfg)
    assert [x.id for x in pairs] == ["a", "b", "c"]
    assert [x.label for x in pairs] == [1.0, 0.0, None]
    assert pairs[0].content_hash != pairs[1].content_hash
    assert origin == str(p)


def test_csv_and_parquet(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    with p.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "source", "rewrite", "label"])
        w.writeheader()
        w.writerow({"id": "x", "source": "S one.", "rewrite": "R one.", "label": "0"})
    pairs, _ = load_pairs(DataConfig(name="c", type="csv", path=str(p)))
    assert pairs[0].label == 0.0
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["y"], "source": ["S."], "rewrite": ["R."]}), tmp_path / "d.parquet")
    pairs, _ = load_pairs(DataConfig(name="p", type="parquet", path=str(tmp_path / "d.parquet")))
    assert pairs[0].id == "y" and pairs[0].label is None


@pytest.mark.parametrize(
    ("rows", "expect"),
    [
        ([{"id": "1", "source": "s"}], "line 1: missing field 'rewrite'"),
        ([{"id": "1", "source": "s", "rewrite": "  "}], "line 1: field 'rewrite' is empty"),
        ([{"id": "1", "source": "s", "rewrite": "r"}, {"id": "1", "source": "s", "rewrite": "q"}],
         "line 2: duplicate id '1'"),
        ([{"id": "1", "source": "s", "rewrite": "r", "label": "maybe"}],
         "line 1: field 'label': value 'maybe' is not a label"),
        ([{"id": "1", "source": 5, "rewrite": "r"}], "field 'source' must be text"),
    ],
)
def test_bad_rows(tmp_path: Path, rows: list[dict], expect: str) -> None:
    p = _jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError) as err:
        load_pairs(DataConfig(name="b", type="jsonl", path=str(p)))
    assert expect in str(err.value) and str(p) in str(err.value)


def test_bad_json_line(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": 1, "source": "a", "rewrite": "b"}\n{oops\n')
    with pytest.raises(DataError, match="line 2: not valid JSON"):
        load_pairs(DataConfig(name="b", type="jsonl", path=str(p)))


def test_seeds_folder(repo: Path) -> None:
    pairs, _ = load_pairs(DataConfig(name="seed", type="seeds", path=str(repo / "seeds")))
    (pair,) = pairs
    assert pair.source.startswith("Mexiko") and pair.rewrite.startswith("Skip to content")


def test_hf_local_json_files(tmp_path: Path) -> None:
    p = _jsonl(tmp_path / "h.jsonl", [{"id": "q", "source": "S.", "rewrite": "R.", "label": 1}])
    pairs, _ = load_pairs(DataConfig(name="h", type="hf", path=str(p), split="train"))
    assert pairs[0].id == "q" and pairs[0].label == 1.0
