"""NLI label ids of the training files, shared by the mix (:mod:`harness.train.data`) and the perturbations
(:mod:`harness.train.perturb`), which would otherwise import each other."""

__all__ = ["LABEL_IDS", "NOT_ENTAILMENT", "NO_GOLD"]

LABEL_IDS: dict[str, int] = {"entailment": 0, "neutral": 1, "contradiction": 2, "not_entailment": 3}
NOT_ENTAILMENT = 3  # two-way rows: trained with -log(P(neutral) + P(contradiction))
NO_GOLD = -1  # unlabelled scoring-shaped pairs of a distillation mix: only the teacher's soft labels train them
