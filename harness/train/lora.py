"""A minimal LoRA for nn.Linear: only the low-rank factors train, so the shipped delta stays a few MB."""

from __future__ import annotations

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """y = base(x) + scale * B(A(dropout(x))); base weight frozen, base bias left trainable by the caller."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        self.rank = rank
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.dropout(x) @ self.lora_A.t() @ self.lora_B.t()) * self.scale

    def delta(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(A, B * scale): W_merged = W + B_scaled @ A."""
        return self.lora_A.detach(), (self.lora_B * self.scale).detach()


def inject_lora(model: nn.Module, targets: list[str], rank: int, alpha: float, dropout: float) -> list[str]:
    """Wrap every nn.Linear whose qualified name ends with one of ``targets``; returns wrapped names."""
    wrapped = []
    for name, module in list(model.named_modules()):
        if not isinstance(module, nn.Linear) or not any(name.endswith(t) for t in targets):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(module, rank, alpha, dropout))
        wrapped.append(name)
    return wrapped


def lora_modules(model: nn.Module) -> dict[str, LoRALinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def plain_name(name: str) -> str:
    """Parameter name as in the un-wrapped model ('...query.base.bias' -> '...query.bias')."""
    return name.replace(".base.", ".")
