"""NLI label names: map a model's ``id2label`` onto entailment / neutral / contradiction.

Label order is read from the model's ``id2label`` — never assumed — and mapped onto the three NLI
labels. Two-way models (entailment / not_entailment) report ``not_entailment`` as neutral.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NLI_LABELS", "nli_label_index", "to_nli_probs"]

NLI_LABELS = ("entailment", "neutral", "contradiction")
_ALIASES = {
    "entailment": "entailment", "entail": "entailment", "entailed": "entailment", "supported": "entailment",
    "consistent": "entailment", "factual": "entailment",
    "neutral": "neutral", "not_entailment": "neutral", "non_entailment": "neutral", "not entailment": "neutral",
    "contradiction": "contradiction", "contradict": "contradiction", "contradicted": "contradiction",
    "refuted": "contradiction",
}


def nli_label_index(id2label: dict[Any, str]) -> dict[str, list[int]]:
    """Map each NLI label to the model's class indices, from ``config.id2label``.

    Raises ValueError when the labels are generic (LABEL_0...) or no entailment class exists, because
    guessing an order silently inverts scores.
    """
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
            "entailment/neutral/contradiction (or not_entailment)"
        )
    return out


def to_nli_probs(output: dict[str, float], labels: dict[str, list[int]], names: list[str]) -> dict[str, float]:
    """Collapse a backend's ``{model label: probability}`` onto the three NLI labels."""
    return {k: float(sum(output[names[i]] for i in idxs)) for k, idxs in labels.items()}
