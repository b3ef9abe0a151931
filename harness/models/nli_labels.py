"""NLI label names: map a model's ``id2label`` onto entailment / neutral / contradiction.

Label order is read from the model's ``id2label`` — never assumed — and mapped onto the three NLI
labels. Two-way models (entailment / not_entailment) report ``not_entailment`` as neutral.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["NLI_LABELS", "explicit_label_index", "nli_label_index", "to_nli_probs"]

NLI_LABELS = ("entailment", "neutral", "contradiction")
_ALIASES = {
    "entailment": "entailment", "entail": "entailment", "entailed": "entailment", "supported": "entailment",
    "consistent": "entailment", "factual": "entailment",
    "neutral": "neutral", "not_entailment": "neutral", "non_entailment": "neutral", "not entailment": "neutral",
    "contradiction": "contradiction", "contradict": "contradiction", "contradicted": "contradiction",
    "refuted": "contradiction",
    # VitaminC (tals/albert-*-vitaminc*, SummaC's backbone): SUPPORTS / REFUTES / NOT ENOUGH INFO
    "supports": "entailment", "refutes": "contradiction", "not enough info": "neutral", "not_enough_info": "neutral",
}


_TWO_WAY = {"supported": "entailment", "unsupported": "neutral"}


def explicit_label_index(labels: Mapping[str, int | Sequence[int]], num_labels: int) -> dict[str, list[int]]:
    """Map each NLI label to class indices from a config's ``labels`` (``supported`` counts as entailment,
    ``unsupported`` as neutral); every one of the model's ``num_labels`` classes must be named exactly once."""
    out: dict[str, list[int]] = {k: [] for k in NLI_LABELS}
    for name, idx in labels.items():
        key = _TWO_WAY.get(name, name)
        if key not in out:
            raise ValueError(f"unknown label {name!r} in labels (allowed: {', '.join([*NLI_LABELS, *_TWO_WAY])})")
        out[key].extend([idx] if isinstance(idx, int) else list(idx))
    named = sorted(i for v in out.values() for i in v)
    if named != list(range(num_labels)) or not out["entailment"]:
        raise ValueError(
            f"labels={dict(labels)} must name each of the model's {num_labels} classes (0..{num_labels - 1}) "
            "exactly once, with an entailment/supported class")
    return out


def nli_label_index(id2label: Mapping[Any, str], labels: Mapping[str, int | Sequence[int]] | None = None
                    ) -> dict[str, list[int]]:
    """Map each NLI label to the model's class indices: from an explicit ``labels`` map when given, else
    from ``config.id2label`` by name.

    Raises ValueError when the names are generic (LABEL_0..., "0"/"1") and no ``labels`` is given, or no
    entailment class exists, because guessing an order silently inverts scores.
    """
    if labels is not None:
        return explicit_label_index(labels, len(id2label))
    out: dict[str, list[int]] = {k: [] for k in NLI_LABELS}
    unknown = []
    for idx, name in id2label.items():
        key = _ALIASES.get(str(name).strip().lower().replace("-", "_"))
        if key is None:
            unknown.append(name)
        else:
            out[key].append(int(idx))
    if not out["entailment"] or unknown:
        raise ValueError(
            f"cannot read NLI labels from the model config id2label={dict(id2label)}: expected names like "
            "entailment/neutral/contradiction (or not_entailment); or set model.labels, e.g. "
            "{supported: 1, unsupported: 0} or {entailment: 0, neutral: 1, contradiction: 2}"
        )
    return out


def to_nli_probs(output: dict[str, float], labels: dict[str, list[int]], names: list[str]) -> dict[str, float]:
    """Collapse a backend's ``{model label: probability}`` onto the three NLI labels."""
    return {k: float(sum(output[names[i]] for i in idxs)) for k, idxs in labels.items()}
