"""Activations shared by the brain families."""
from __future__ import annotations

import torch
from torch import nn


class Quadratic(nn.Module):
    """x -> x^2: the activation of Gromov's analytic solution (products of two inputs)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


def activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU, "gelu": nn.GELU, "quadratic": Quadratic, "identity": nn.Identity}[name]()
