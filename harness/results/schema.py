"""The self-describing run record: ``results/<run-id>/{run.json, claims.jsonl, pairs.jsonl}``.

``run.json`` carries a format ``version``; readers refuse versions they do not know. Per-pair content
hashes in ``pairs.jsonl`` (and their digest per dataset in ``run.json``) prove two runs scored the
same inputs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "RESULTS_VERSION",
    "ClaimRow",
    "CpuInfo",
    "DatasetInfo",
    "EvidenceRow",
    "GitInfo",
    "ModelInfo",
    "PairRow",
    "PairScoreRow",
    "RunRecord",
    "ScorerInfo",
]

RESULTS_VERSION = 1


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class EvidenceRow(_Row):
    text: str
    start: int
    """Character offset into the pair's source."""
    end: int
    premise_index: int | None = None


class ClaimRow(_Row):
    """One line of ``claims.jsonl``: one scorer's verdict on one claim."""

    pair_id: str
    dataset: str
    scorer: str
    claim_index: int
    text: str
    start: int
    """Character offset into the pair's rewrite (``rewrite[start:end] == text``)."""
    end: int
    score: float | None
    label: str
    """supported | contradicted | unsupported | not_checkable"""
    reason: str
    """entailed, contradicted, no_evidence, fabricated_quote, off_topic, boilerplate, meta, ..."""
    probs: dict[str, float] = Field(default_factory=dict)
    evidence: EvidenceRow | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    gold_label: float | None = None
    """Claim-level human label when the data has one (1 = faithful); enables claim-level metrics."""


class PairScoreRow(_Row):
    score: float | None
    label: str
    n_claims: int
    n_checkable: int
    counts: dict[str, int] = Field(default_factory=dict)


class PairRow(_Row):
    """One line of ``pairs.jsonl``: every scorer's aggregate for one pair."""

    pair_id: str
    dataset: str
    content_hash: str
    """sha256 prefix of (source, rewrite): equal across runs iff the inputs were equal."""
    gold_label: float | None = None
    group: str | None = None
    source_lang: str = "und"
    rewrite_lang: str = "und"
    coverage: float = 1.0
    """Fraction of the source covered by premise units (1.0 = nothing left unread)."""
    warnings: list[str] = Field(default_factory=list)
    scores: dict[str, PairScoreRow]
    """Per scorer name (plus the ``combined`` score when enabled)."""
    source: str | None = None
    """The source text, so that ``harness report`` can show evidence in context (None = not stored)."""
    rewrite: str | None = None
    """The rewrite text, so that ``harness report`` can highlight claims in place (None = not stored)."""


class GitInfo(_Row):
    commit: str | None = None
    dirty: bool | None = None


class ModelInfo(_Row):
    role: str = "nli"
    """What the model does for its scorer (nli, question_generation, question_answering, ...)."""
    id: str
    revision: str | None = None
    weight_sha256: str | None = None
    weights_format: Literal["safetensors", "pickle-weights-only"] | None = None
    """How the weights were read: safetensors, or a pickle .bin through torch's weights-only loader (never a
    full unpickle, so loading cannot run code); None for runs recorded before this field existed."""
    weights_file: str | None = None
    """The weights file that was loaded, as named in the model folder (``model.safetensors``,
    ``pytorch_model.bin``, or a sharded checkpoint's ``*.index.json``), by transformers' own precedence;
    ``weight_sha256`` is of that file (of a sharded checkpoint's shards, in name order). None where unknown."""
    languages: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    """The model's id2label as read from its config."""
    backend: str | None = None
    """Forward pass the model ran on: torch, onnx or onnx-int8 (``runtime.backend`` as resolved); None for
    models outside the pair-classifier path and for runs recorded before this field existed."""


class CpuInfo(_Row):
    """The CPU a run's models ran on, as far as it decided the backend (``harness.engine.device.cpu_summary``)."""

    arch: str
    """``platform.machine()``: x86_64, aarch64, arm64, ..."""
    isa: list[str] = Field(default_factory=list)
    """The deciding ISA flags the CPU has (avx2, avx512f, avx512_vnni, avx_vnni, avx512_bf16, amx_*), from
    /proc/cpuinfo; empty where they cannot be read (not Linux)."""
    torch_capability: str = ""
    """PyTorch's CPU kernel level (``torch.backends.cpu.get_cpu_capability()``: AVX2, AVX512, ...)."""
    bf16_native: bool
    """Native bf16 matmul (AVX512-BF16 or AMX): ``runtime.dtype: auto`` takes bf16 only where this is true."""
    int8_dot: bool
    """Exact int8 dot products (VNNI, AMX-INT8, or not x86): decides the int8 scheme."""
    int8_scheme: str
    """The scheme ``runtime.backend: onnx-int8`` uses here: ``s8`` (full-range weights) or ``s8-reduce-range``
    (weights in [-64, 64], so that x86 CPUs without VNNI do not clip)."""


class ScorerInfo(_Row):
    name: str
    type: str
    models: list[ModelInfo] = Field(default_factory=list)


class DatasetInfo(_Row):
    name: str
    role: str = "none"
    source: str
    """Where the pairs came from (path or datasets id)."""
    n_pairs: int
    labelled: int
    """How many pairs carry a gold label."""
    inputs_hash: str
    """Digest of all per-pair content hashes in order: equal iff the same pairs were scored."""


class RunRecord(_Row):
    """``run.json``."""

    version: int = RESULTS_VERSION
    run_id: str
    name: str
    created: str
    """ISO-8601 UTC time the run started."""
    harness_version: str
    git: GitInfo = GitInfo()
    packages: dict[str, str] = Field(default_factory=dict)
    python: str = ""
    config: dict[str, Any]
    """The config as resolved (defaults filled in, paths absolute)."""
    config_hash: str
    datasets: list[DatasetInfo]
    scorers: list[ScorerInfo]
    device: str
    dtype: str
    cpu: CpuInfo | None = None
    """The CPU features that decided the backend and dtype (of the process that scored the first block); None
    for runs recorded before this field existed."""
    timings: dict[str, float] = Field(default_factory=dict)
    """Seconds per stage: load, segment, score, aggregate, total."""
    counts: dict[str, int] = Field(default_factory=dict)
    executor: dict[str, Any] = Field(default_factory=dict)
    """How the blocks were scored: ``name`` (``local`` or ``ray``); for Ray also the cluster ``address``
    (credentials redacted), ``actors``, ``max_restarts``, ``actor_restarts`` and ``per_actor`` (blocks scored,
    busy and idle seconds, restarts). Empty for runs recorded before this field existed."""
    engine: dict[str, Any] = Field(default_factory=dict)
    """Engine counters: inputs, unique, cache hits, forward calls, real/padded tokens."""
    coverage: dict[str, float] = Field(default_factory=dict)
    """min and mean premise coverage of the sources."""
    languages: dict[str, int] = Field(default_factory=dict)
    """Pairs per 'source_lang->rewrite_lang'."""
    routes: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Per scorer: pairs judged by its own model, by the cross-lingual judge (``crosslingual:<model>``), or
    left ``unscored`` because nothing covers their languages (harness/routing.py)."""
    warnings: list[str] = Field(default_factory=list)
    reasons: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Claims per reason, per scorer."""
    metrics: dict[str, Any] = Field(default_factory=dict)
    """Meta-evaluation against gold labels, per dataset and scorer (see harness/evaluation)."""
    thresholds: dict[str, Any] = Field(default_factory=dict)
    """Thresholds tuned on a dev dataset: {scorer: {value, dataset, metric}}."""
