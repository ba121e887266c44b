"""The router family: swappable blocks and recursion (the forum's "hive of micro agents").

A library of K small residual MLP blocks and a router, a linear map of the state plus a
learned bias per step, that at each of R recursion steps chooses which block to apply to
the current state. The blocks are shared across steps, so depth comes from recursion, not
from more weights.

Every block runs on every row at every step, in both kinds: a soft mixture needs them all,
and hard top-1's straight-through gradient to the router is the soft mixture's (d out /
d p_k is block k's output), so it needs them too. The FLOP counter therefore counts K blocks
per step, which is what runs; hard routing buys no compute here, only a discrete choice.
Halting likewise is a learned distribution over the R states (PonderNet's, Banino et al.
2021): every step runs, and the answer reads the states weighted by where rows halt.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from brains.gene import BrainGene
from brains.layers import activation


class ResBlock(nn.Module):
    """state + W2 act(W1 state): one block of the library, its own width."""

    def __init__(self, dim: int, width: int, act: str, bias: bool):
        super().__init__()
        self.up = nn.Linear(dim, width, bias=bias)
        self.act = activation(act)
        self.down = nn.Linear(width, dim, bias=bias)

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return state + self.down(self.act(self.up(state)))


class Router(nn.Module):
    """Pair features -> state (a linear map) -> R routed block steps -> scores (a linear map).

    After each forward, `routing` holds what the router did: `probs` [R, n, K] (its
    softmax), `chosen` [R, n] (the top block) and, with halting, `halt` [R, n] (where rows
    halt); `balance` is the load-balancing loss of that forward (kept only when the gene
    weighs it)."""

    def __init__(self, in_dim: int, n_out: int, gene: BrainGene, library: list[ResBlock] | None = None,
                 widths: tuple[int, ...] | None = None):
        """`library`: trained blocks to start the library with; `widths` (default the gene's
        `router_blocks`): the new blocks after them."""
        super().__init__()
        dim, bias = gene.router_dim, gene.bias
        self.inp = nn.Linear(in_dim, dim, bias=bias)   # first: introspection reads the first Linear
        new = gene.router_blocks if widths is None else widths
        blocks = list(library or []) + [ResBlock(dim, w, gene.activation, bias) for w in new]
        self.blocks = nn.ModuleList(blocks)
        k, self.steps, self.kind = len(blocks), gene.router_steps, gene.router_kind
        self.choose = nn.Linear(dim, k)
        self.step_bias = nn.Parameter(torch.zeros(self.steps, k))   # lets each step prefer its own block
        self.halt = nn.Linear(dim, 1) if gene.router_halt and self.steps > 1 else None
        self.head = nn.Linear(dim, n_out, bias=bias)
        self.balance_weight = gene.router_balance
        self.routing: dict[str, torch.Tensor] = {}
        self.balance = torch.zeros(())

    def extra_repr(self) -> str:   # the FLOP counter keys its counts on the printed form
        return f"kind={self.kind}, steps={self.steps}, halt={self.halt is not None}"

    def weights(self, state: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(the blocks' weights in the step's output, the router's probabilities), both [n, K].
        Hard: the top block's one-hot in value, the probabilities' gradient (straight-through)."""
        probs = F.softmax(self.choose(state) + self.step_bias[step], dim=-1)
        if self.kind == "soft":
            return probs, probs
        top = F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)
        return top + probs - probs.detach(), probs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.inp(x.flatten(1))
        probs, states, halts = [], [], []
        left = torch.ones(state.shape[0], 1, dtype=state.dtype, device=state.device)  # not yet halted
        for step in range(self.steps):
            w, p = self.weights(state, step)
            outs = torch.stack([block(state) for block in self.blocks], dim=1)   # [n, K, dim]
            state = (w.unsqueeze(-1) * outs).sum(1)
            probs.append(p)
            if self.halt is not None:
                stop = torch.sigmoid(self.halt(state)) if step < self.steps - 1 else torch.ones_like(left)
                halts.append(left * stop)
                left = left * (1 - stop)
                states.append(state)
        if self.halt is not None:
            halt = torch.stack(halts)                                   # [R, n, 1], sums to 1 per row
            state = (halt * torch.stack(states)).sum(0)
        p_all = torch.stack(probs)                                       # [R, n, K]
        self.routing = {"probs": p_all.detach(), "chosen": p_all.detach().argmax(-1)}
        if self.halt is not None:
            self.routing["halt"] = halt.detach().squeeze(-1)
        if self.balance_weight:   # only a brain that trains on it pays for it
            self.balance = self.balance_loss(p_all)
        return self.head(state)

    def balance_loss(self, probs: torch.Tensor) -> torch.Tensor:
        """Switch Transformer's auxiliary loss per step, averaged over steps: K sum_k f_k P_k,
        f_k the share of rows whose top block is k, P_k the mean probability of k. 1 when
        balanced, K when every row goes to one block; only P carries a gradient."""
        k = probs.shape[-1]
        share = F.one_hot(probs.argmax(-1), k).to(probs.dtype).mean(1)   # [R, K]
        return k * (share * probs.mean(1)).sum(-1).mean()

    def aux_loss(self) -> torch.Tensor:
        """What the trainer adds to the task loss: the weighted balance loss of the last forward."""
        return self.balance_weight * self.balance

    def handed_over(self, gene: BrainGene, n_out: int, new_widths: tuple[int, ...], freeze: bool) -> "Router":
        """The next curriculum stage's router: this one's input map and blocks (the same
        modules, so the weights are kept; fixed if `freeze`), new blocks of `new_widths`, and a
        new router and head (the next operation's answers are new)."""
        library = list(self.blocks)
        if freeze:
            for module in (self.inp, *library):
                module.requires_grad_(False)
        nxt = Router(self.inp.in_features, n_out, gene, library, widths=new_widths)
        nxt.inp = self.inp
        return nxt.to(self.inp.weight.device, self.inp.weight.dtype)

