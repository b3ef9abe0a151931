"""CPU features decide the int8 scheme and warn about emulated bf16, on whatever CPU the tests run on.

Every test stands in for another CPU by replacing ``device.cpu_flags`` (and the architecture), so the results
do not depend on the machine: the branches for x86 without VNNI, with AVX512-VNNI / AVX-VNNI / AMX, and ARM
are all exercised on any one of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from harness.engine import device as dev
from harness.results.schema import CpuInfo, RunRecord

AVX2_EPYC = frozenset({"sse4_2", "avx", "avx2", "fma", "bmi2"})  # the AVX2-only AMD EPYC of issue 23
ZEN4 = AVX2_EPYC | {"avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"}
ALDER_LAKE = AVX2_EPYC | {"avx_vnni"}
SAPPHIRE_RAPIDS = ZEN4 | {"amx_tile", "amx_bf16", "amx_int8"}


@pytest.fixture()
def cpu(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set this 'machine's CPU flags and whether it is x86."""

    def set_(flags: frozenset[str], x86: bool = True) -> None:
        monkeypatch.setattr(dev, "cpu_flags", lambda: flags)
        monkeypatch.setattr(dev, "_is_x86", lambda: x86)

    return set_


@pytest.mark.parametrize(
    ("flags", "x86", "dot", "scheme"),
    [
        (AVX2_EPYC, True, False, "s8-reduce-range"),  # VPMADDUBSW clips full-range pairs
        (AVX2_EPYC | {"avx512f", "avx512bw"}, True, False, "s8-reduce-range"),  # AVX-512 without VNNI clips too
        (ZEN4, True, True, "s8"),
        (ALDER_LAKE, True, True, "s8"),
        (SAPPHIRE_RAPIDS, True, True, "s8"),
        (frozenset(), True, False, "s8-reduce-range"),  # flags unreadable: the scheme that cannot clip
        (frozenset(), False, True, "s8"),  # ARM: dot products widen, nothing to clip
    ],
)
def test_int8_scheme_follows_exact_int8_products(cpu: Callable[..., None], flags: frozenset[str], x86: bool, dot: bool,
                                                 scheme: str) -> None:
    cpu(flags, x86)
    assert dev.cpu_has_int8_dot() is dot
    assert dev.int8_scheme() == scheme
    assert dev.cpu_summary()["int8_scheme"] == scheme


def test_cpu_summary_names_the_deciding_flags_and_fits_run_json(cpu: Callable[..., None]) -> None:
    cpu(AVX2_EPYC)
    s = dev.cpu_summary()
    assert s["isa"] == ["avx2", "fma"], "only the flags that decide something, in a fixed order"
    assert s["bf16_native"] is False and s["int8_dot"] is False
    assert CpuInfo.model_validate(s).int8_scheme == "s8-reduce-range"
    cpu(SAPPHIRE_RAPIDS)
    s = dev.cpu_summary()
    assert s["isa"] == ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16",
                        "amx_int8"]
    assert s["bf16_native"] is True and s["int8_scheme"] == "s8"


def test_bf16_warning_only_where_bf16_is_asked_for_and_emulated(cpu: Callable[..., None]) -> None:
    cpu(AVX2_EPYC)
    line = dev.bf16_emulated_warning("bf16", "cpu")
    assert line is not None and "\n" not in line and "no avx512_bf16" in line and "slower" in line
    assert dev.bf16_emulated_warning("BF16", torch.device("cpu")) == line
    assert dev.bf16_emulated_warning("auto", "cpu") is None, "auto never picks bf16 there"
    assert dev.bf16_emulated_warning("fp32", "cpu") is None
    assert dev.bf16_emulated_warning("bf16", "cuda") is None
    cpu(ZEN4)
    assert dev.bf16_emulated_warning("bf16", "cpu") is None


def test_a_run_warns_about_emulated_bf16_and_records_the_cpu(
    cpu: Callable[..., None], tmp_path: Path, tiny_nli_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.__main__ import main

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "p", "source": "The cat sat on the mat.", "rewrite": "The cat sat."}) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {{type: jsonl, path: {data}}}\nscorers: [{{type: nli, model: {{id: {tiny_nli_dir}}}}}]\n"
                   "checks: {off_topic: false, quotes: false}\nruntime: {cache: null, progress: false}\n")

    def run(name: str, *overrides: str) -> dict:
        out = tmp_path / name
        assert main(["run", str(cfg), "--output", str(out), *[x for o in overrides for x in ("--set", o)]]) == 0
        (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
        return json.loads((folder / "run.json").read_text())

    cpu(AVX2_EPYC)
    record = run("avx2-bf16", "runtime.dtype=bf16")
    err = capsys.readouterr().err
    warned = [x for x in err.splitlines() if x.startswith("warning: bf16")]
    assert len(warned) == 1, err
    assert record["dtype"] == "bf16" and warned[0].removeprefix("warning: ") in record["warnings"]
    assert record["cpu"]["isa"] == ["avx2", "fma"] and record["cpu"]["bf16_native"] is False
    assert record["cpu"]["int8_scheme"] == "s8-reduce-range"
    assert RunRecord.model_validate(record).cpu is not None

    record = run("avx2-auto")  # auto: fp32 there, nothing to warn about
    assert "warning: bf16" not in capsys.readouterr().err
    assert record["dtype"] == "fp32" and not any("bf16" in w for w in record["warnings"])

    cpu(ZEN4)
    record = run("zen4-bf16", "runtime.dtype=bf16")
    assert "warning: bf16" not in capsys.readouterr().err
    assert record["cpu"]["bf16_native"] is True and record["cpu"]["int8_scheme"] == "s8"
