"""A trained brain with new layers stacked on top: the model of a curriculum's later
stages (evo.execution.curriculum trains it)."""
from __future__ import annotations

import torch
from torch import nn

from brains.layers import activation

READS = ("answer", "scores")


class Stacked(nn.Module):
    """A trained brain with new layers on top: they read its output next to the pair's own
    features, and give new scores. The old brain is kept, frozen if asked.

    `read="answer"` hands the new layers the old brain's answer as a one-hot (no gradient
    flows back through it); `read="scores"` hands them its p raw scores. Measured on
    x*y^2 -> x*y^2+y (p 97, onehot-quad): raw MSE scores (right class ~0.46, the others
    spread with std ~0.07) kept the new quadratic layer at chance, while the answer
    generalized in 100 steps, as it does on exact one-hots."""

    def __init__(self, base: nn.Module, in_width: int, n_out: int, hidden: tuple[int, ...], act: str,
                 bias: bool, freeze: bool, read: str = "answer"):
        super().__init__()
        if read not in READS:
            raise ValueError(f"read: {read!r} is not one of {', '.join(READS)}")
        self.base, self.read, self.n_out = base, read, n_out
        if freeze:
            for param in base.parameters():
                param.requires_grad_(False)
        layers: list[nn.Module] = []
        width = n_out + in_width
        for h in hidden:
            layers += [nn.Linear(width, h, bias=bias), activation(act)]
            width = h
        layers.append(nn.Linear(width, n_out, bias=bias))
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.base(x)
        if self.read == "answer":
            scores = nn.functional.one_hot(scores.argmax(1), self.n_out).to(scores.dtype)
        return self.head(torch.cat([scores, x.flatten(1)], dim=1))
