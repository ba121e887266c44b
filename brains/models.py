"""Gene -> torch module. Four families: an MLP on combined pair features; a small
decoder-only transformer that reads the token sequence `a b =` and combines the operands
itself (so its encoder's combiner is not used); a forward-forward network on pair
features (brains.forward_forward); and a router over a library of blocks, on pair features
(brains.router)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from brains.forward_forward import ForwardForward
from brains.gene import BrainGene
from brains.layers import activation
from brains.router import Router


class MLP(nn.Module):
    def __init__(self, in_dim: int, n_out: int, gene: BrainGene):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in gene.hidden:
            layers += [nn.Linear(width, h, bias=gene.bias), activation(gene.activation)]
            width = h
        layers.append(nn.Linear(width, n_out, bias=gene.bias))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Block(nn.Module):
    """Pre-norm causal self-attention and MLP, as in Power et al.'s decoder."""

    def __init__(self, gene: BrainGene):
        super().__init__()
        d, self.heads = gene.d_model, gene.n_heads
        norm = (lambda: nn.LayerNorm(d)) if gene.layer_norm else nn.Identity
        self.ln1, self.ln2 = norm(), norm()
        self.qkv = nn.Linear(d, 3 * d, bias=gene.bias)
        self.proj = nn.Linear(d, d, bias=gene.bias)
        self.mlp = nn.Sequential(nn.Linear(d, gene.d_mlp, bias=gene.bias), activation(gene.activation),
                                 nn.Linear(gene.d_mlp, d, bias=gene.bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # softmax(q k^T / sqrt(head width), causal mask) v, by torch's fused kernel where one applies
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(att.transpose(1, 2).reshape(n, t, d))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """Operand codes [n, 2, d_code] are projected to d_model (with one-hot codes this is a
    learned embedding), an `=` token is appended, and the answer is read at `=`."""

    def __init__(self, code_dim: int, n_out: int, gene: BrainGene):
        super().__init__()
        d = gene.d_model
        self.embed = nn.Linear(code_dim, d, bias=False)
        self.eq = nn.Parameter(torch.randn(d) * 0.02)
        self.pos = nn.Parameter(torch.randn(3, d) * 0.02)
        self.blocks = nn.Sequential(*[Block(gene) for _ in range(gene.n_layers)])
        self.ln = nn.LayerNorm(d) if gene.layer_norm else nn.Identity()
        self.unembed = nn.Linear(d, n_out, bias=gene.bias)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([self.embed(codes), self.eq.expand(codes.shape[0], 1, -1)], dim=1)
        h = self.blocks(tokens + self.pos)
        return self.unembed(self.ln(h[:, -1]))


def build_model(gene: BrainGene, in_dim: int, n_out: int) -> nn.Module:
    """in_dim is the pair-feature width (mlp, ff, router) or one operand's code width (transformer)."""
    family = {"mlp": MLP, "transformer": Transformer, "ff": ForwardForward, "router": Router}[gene.family]
    model: nn.Module = family(in_dim, n_out, gene)
    if gene.init_scale != 1.0:
        with torch.no_grad():
            for param in model.parameters():
                param.mul_(gene.init_scale)
    return model


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
