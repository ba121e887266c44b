"""Train many MLPs of different shapes as one batched computation: the brains.loop loop over
a many-member back end.

Each member is padded to a cell of a small grid of shapes: its input width, hidden widths
and batch rows are rounded up to the next step of GRID, and members that share a cell (and
depth, activation, loss and optimizer family: see group_key) are stacked, their layers run
as batched matrix products. The padding is exact, not approximate: padded weights start at
zero, a padded unit's input is zero, every activation maps 0 to 0, so a padded weight's
gradient is exactly zero and every update rule here keeps a zero weight at zero; padded
batch rows carry a loss weight of zero. A member's cell comes from its own gene, and a
batched product computes each member's slice on its own, so a member's figures do not
depend on which members it shares a group with: not on --workers nor on the generation.

Everything else is per member: data, seed, initialisation (built alone under its seed, then
copied in), minibatch order, learning rate, warm-up, weight decay and its kind (decoupled
for AdamW, in the gradient for Adam), betas or momentum, Grokfast-EMA, the perpendicular
gradient, the norm constraint, the gradient clip, the FLOP count (its own network's, not
the padding) and with it the step cap. The updates are written out as torch's single-tensor
AdamW, Adam and SGD write them, so a member's figures equal its lone run's
(brains.train.train) within floating-point tolerance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from brains.flops import predict_flops, step_flops
from brains.gene import BrainGene
from brains.layers import activation
from brains.denormals import flushed_denormals
from brains.loop import Evaluation, StepOut, TrainData, Batches, TrainResult, run
from brains.losses import loss_function, outranked, predicted, row_losses

ADAM_EPS = 1e-8
ORTHO_EPS = 1e-30    # brains.optim.orthogonalize_grads's
CLIP_EPS = 1e-6      # torch.nn.utils.clip_grad_norm_'s
# Widths and batch rows are padded up to the next of these (beyond: the next multiple of
# the last). Steps of about 1.5x: a cell wastes at most a third of a dimension.
GRID = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)
EVAL_FLOATS = 1 << 24   # floats of one layer's output per evaluation chunk (memory stays flat)
Params = list[torch.Tensor]


def bucket(n: int) -> int:
    """n rounded up to the grid."""
    for size in GRID:
        if n <= size:
            return size
    return -(-n // GRID[-1]) * GRID[-1]


def supports(gene: BrainGene) -> bool:
    """What this trainer implements: MLPs, any loss, AdamW, Adam or SGD at a constant
    learning rate after the warm-up, Grokfast-EMA, the perpendicular gradient, the norm
    constraint and clipping. Grokfast-MA (a window of past gradients per member), Muon, the
    egalitarian gradient, learning-rate schedules and other families train alone."""
    return gene.family == "mlp" and (gene.grokfast_lambda == 0 or gene.grokfast_filter == "ema") and \
        not gene.muon and not gene.egalitarian and gene.lr_schedule == "constant"


def group_key(gene: BrainGene, in_dim: int) -> tuple | None:
    """Genes with equal keys train as one group (None: alone): the padded shape, depth,
    activation, loss and optimizer family. Everything else is a per-member column."""
    if not supports(gene):
        return None
    rows = 0 if gene.batch_size <= 0 else bucket(gene.batch_size)    # 0: the whole training set
    return (bucket(in_dim), tuple(bucket(h) for h in gene.hidden), gene.activation, gene.loss, gene.stablemax,
            gene.optimizer == "sgd", rows)


@dataclass
class Member:
    model: nn.Module
    gene: BrainGene
    data: TrainData
    seed: int


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.net if isinstance(m, nn.Linear)]


def _bcast(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """A per-member column [M] shaped to multiply a stacked tensor [M, ...]."""
    return v.view(-1, *([1] * (p.dim() - 1)))


def _pad(t: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    out = t.new_zeros(shape)
    out[tuple(slice(0, n) for n in t.shape)] = t
    return out


class Group:
    """MLPs of one group key, one row of every stacked tensor per live member."""

    def __init__(self, members: list[Member], charge_evals: bool = False):
        keys = {group_key(m.gene, m.data.x_train.shape[1]) for m in members}
        if None in keys:
            bad = next(m.gene for m in members if not supports(m.gene))
            raise ValueError(f"brains.batched cannot train {bad}: train it alone")
        if len(keys) > 1:  # one depth, activation, loss and update rule per group
            raise ValueError(f"brains.batched: members of {len(keys)} group keys in one group; group by group_key")
        first = members[0]
        sizes = {(len(m.data.x_train), len(m.data.x_select), m.data.n_classes) for m in members}
        if len(sizes) > 1:
            raise ValueError("brains.batched: members of one group share their task's set sizes")
        self.members = list(members)
        gene0, n_train = first.gene, len(first.data.x_train)
        self.device = first.data.x_train.device
        self.act = activation(gene0.activation)
        self.sgd = gene0.optimizer == "sgd"
        in_pad, hidden, _, _, _, _, rows = group_key(gene0, first.data.x_train.shape[1])
        dims = [in_pad, *hidden, first.data.n_classes]
        self.shapes = [(dims[i + 1], dims[i]) for i in range(len(dims) - 1)]

        # Parameters: [M, out, in] weights and [M, out] biases per layer, zero where padded.
        self.params: Params = []
        for layer, (out, inp) in enumerate(self.shapes):
            w = torch.stack([_pad(_linears(m.model)[layer].weight.detach(), (out, inp)) for m in members])
            b = torch.stack([_pad(_linears(m.model)[layer].bias.detach(), (out,))
                             if m.gene.bias else w.new_zeros(out) for m in members])
            self.params += [w.requires_grad_(), b.requires_grad_()]

        # Data, padded with zero features: [M, N, in_pad] and [M, N].
        self.x_tr = torch.stack([_pad(m.data.x_train, (n_train, in_pad)) for m in members])
        self.y_tr = torch.stack([m.data.y_train for m in members])
        self.x_se = torch.stack([_pad(m.data.x_select, (len(m.data.x_select), in_pad)) for m in members])
        self.y_se = torch.stack([m.data.y_select for m in members])
        self.rows = n_train if rows == 0 else min(rows, n_train)
        self.own_rows = [min(n_train, m.gene.batch_size) if m.gene.batch_size > 0 else n_train for m in members]
        self.full = all(r == n_train for r in self.own_rows)   # no minibatches: no gather, no row weights
        self.iters = [Batches(n_train, m.gene.batch_size, torch.Generator().manual_seed(m.seed), self.device)
                      for m in members]
        self.idx = [next(it) for it in self.iters]
        # a padded row repeats one of the member's rows (finite, like them) and weighs nothing
        self.weight = torch.stack([(torch.arange(self.rows, device=self.device) < r).float() / r
                                   for r in self.own_rows])
        self.row_loss = row_losses(gene0)
        self.step_flops = [step_flops(m.model, *self._own_batch(m, idx), loss_function(m.gene, m.data.n_classes))
                           for m, idx in zip(members, self.idx)]
        self.eval_flops = [predict_flops(m.model, m.data.x_select) if charge_evals else 0 for m in members]

        # Per-member columns.
        genes = [m.gene for m in members]

        def column(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=self.x_tr.dtype, device=self.device)
        self.col = {
            "lr": column([g.lr for g in genes]), "warmup": column([max(1, g.warmup) for g in genes]),
            "decoupled": column([g.weight_decay if g.optimizer == "adamw" else 0.0 for g in genes]),
            "l2": column([g.weight_decay if g.optimizer != "adamw" else 0.0 for g in genes]),
            "beta1": column([g.beta1 for g in genes]), "beta2": column([g.beta2 for g in genes]),
            "momentum": column([g.momentum for g in genes]),
            "grokfast_alpha": column([g.grokfast_alpha for g in genes]),
            "grokfast_lambda": column([g.grokfast_lambda for g in genes]),
            "clip": column([g.grad_clip if g.grad_clip > 0 else math.inf for g in genes]),
            "ortho": column([float(g.orthograd) for g in genes]), "bias": column([float(g.bias) for g in genes]),
            "norm": column([float(g.norm_constraint) for g in genes])}
        self.uses = {"no_bias": not all(g.bias for g in genes), "grokfast": any(g.grokfast_lambda for g in genes),
                     "ortho": any(g.orthograd for g in genes), "norm": any(g.norm_constraint for g in genes),
                     "clip": any(g.grad_clip for g in genes),
                     "l2": any(g.weight_decay and g.optimizer != "adamw" for g in genes)}
        self.norm0 = self._norms(self.params)
        self.state = [torch.zeros_like(p) for p in self.params]      # AdamW/Adam m; SGD momentum buffer
        self.state2 = [] if self.sgd else [torch.zeros_like(p) for p in self.params]   # Adam v
        self.ema: Params | None = None   # the Grokfast filter's state
        self.t = 0

    def _own_batch(self, m: Member, idx: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        return (m.data.x_train, m.data.y_train) if idx is None else (m.data.x_train.index_select(0, idx),
                                                                     m.data.y_train.index_select(0, idx))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [M, N, in_pad] -> logits [M, N, C]."""
        h = x
        for layer in range(len(self.shapes)):
            w, b = self.params[2 * layer], self.params[2 * layer + 1]
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            if layer < len(self.shapes) - 1:
                h = self.act(h)
        return h

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.full:   # every member's batch is its whole training set
            return self.x_tr, self.y_tr
        all_rows = torch.arange(self.rows, device=self.device)
        rows = torch.stack([all_rows if i is None else torch.cat([i, i[:1].expand(self.rows - len(i))])
                            for i in self.idx])
        take = torch.arange(len(self.members), device=self.device).unsqueeze(1)
        return self.x_tr[take, rows], self.y_tr[take, rows]

    def step(self) -> StepOut:
        xs, ys = self._batch()
        out = self.forward(xs)
        per = self.row_loss(out, ys)
        losses = per.mean(1) if self.full else (per * self.weight).sum(1)
        for p in self.params:
            p.grad = None
        losses.sum().backward()  # members share no parameter: each gets its own gradient
        grads = [p.grad for p in self.params]
        hits = predicted(out.detach()) == ys
        correct = (hits if self.full else hits & (self.weight > 0)).sum(1)
        self._rules(grads)
        self._update(grads)
        self.idx = [next(it) for it in self.iters]
        return StepOut(losses.detach(), correct, self.own_rows)

    def _norms(self, tensors: Params) -> torch.Tensor:
        """Each member's L2 norm over all of its tensors taken as one vector: [M]."""
        return torch.sqrt(sum((t.detach().reshape(len(t), -1) ** 2).sum(1) for t in tensors))

    @torch.no_grad()
    def _rules(self, grads: Params) -> None:
        """The gradient rules between backward and the update, in brains.train's order (after
        zeroing the gradient of biases that a member does not have): Grokfast-EMA, the perpendicular gradient, the clip. Each runs only if a member uses
        it; a member that does not gets its gradient times exactly one (or plus zero)."""
        col = self.col
        if self.uses["no_bias"]:   # a member without biases holds zeros there, and they must stay zero
            for b in grads[1::2]:
                b.mul_(_bcast(col["bias"], b))
        if self.uses["grokfast"]:
            ga, gl = col["grokfast_alpha"], col["grokfast_lambda"]
            if self.ema is None:
                self.ema = [g.clone() for g in grads]
            for e, g in zip(self.ema, grads):
                e.mul_(_bcast(ga, g)).add_(g * _bcast(1 - ga, g))
                g.add_(e * _bcast(gl, g))
        if self.uses["ortho"]:
            on = col["ortho"] > 0
            for p, g in zip(self.params, grads):
                w, flat = p.detach().reshape(len(p), -1), g.reshape(len(g), -1)
                perp = flat - ((w * flat).sum(1) / ((w * w).sum(1) + ORTHO_EPS)).unsqueeze(1) * w
                scaled = perp * (flat.norm(dim=1) / (perp.norm(dim=1) + ORTHO_EPS)).unsqueeze(1)
                flat.copy_(torch.where(on.unsqueeze(1), scaled, flat))
        if self.uses["clip"]:
            coef = torch.clamp(col["clip"] / (self._norms(grads) + CLIP_EPS), max=1.0)
            for g in grads:
                g.mul_(_bcast(coef, g))

    @torch.no_grad()
    def _update(self, grads: Params) -> None:
        """One AdamW, Adam or SGD step per member, as torch's single-tensor implementations
        do it; then the norm constraint."""
        self.t += 1
        t, col = self.t, self.col
        r = col["lr"] * torch.clamp(t / col["warmup"], max=1.0)      # per-member lr after warm-up
        for k, (p, g) in enumerate(zip(self.params, grads)):
            if self.uses["l2"]:   # Adam's and SGD's weight decay: in the gradient (zero for AdamW members)
                g = g + _bcast(col["l2"], p) * p
            if self.sgd:
                m = self.state[k] = g.clone() if t == 1 else self.state[k] * _bcast(col["momentum"], p) + g
                p.sub_(_bcast(r, p) * m)
                continue
            b1, b2 = col["beta1"], col["beta2"]
            p.mul_(_bcast(1 - r * col["decoupled"], p))
            m, v = self.state[k], self.state2[k]
            m.lerp_(g, _bcast(1 - b1, p))
            v.mul_(_bcast(b2, p)).addcmul_(g, g * _bcast(1 - b2, p))
            step_size, c2_sqrt = r / (1 - b1 ** t), (1 - b2 ** t).sqrt()
            p.sub_(_bcast(step_size, p) * m / (v.sqrt() / _bcast(c2_sqrt, p) + ADAM_EPS))
        if self.uses["norm"]:
            scale = torch.where(col["norm"] > 0, self.norm0 / self._norms(self.params), 1.0)
            for p in self.params:
                p.mul_(_bcast(scale, p))

    @torch.no_grad()
    def evaluate(self, under: list[float | None] | None = None) -> list[Evaluation]:
        """Every member's figures, read whole (`under` is a permission: one pass serves all)."""
        n = self.y_se.shape[1]
        chunk = max(1, EVAL_FLOATS // (len(self.members) * max(out for out, _ in self.shapes)))
        hits = torch.zeros(len(self.members), dtype=torch.long, device=self.device)
        loss = torch.zeros(len(self.members), device=self.device)
        above = torch.zeros(len(self.members), dtype=torch.float64, device=self.device)
        for start in range(0, n, chunk):
            out = self.forward(self.x_se[:, start:start + chunk])
            y = self.y_se[:, start:start + chunk]
            hits += (predicted(out) == y).sum(1)
            loss += self.row_loss(out, y).sum(1)
            above += outranked(out, y).sum(1)
        per = max(1, n) * max(1, self.shapes[-1][0] - 1)
        figures = torch.stack([hits.double(), loss.double(), above]).tolist()   # one read: a sync on a GPU
        return [Evaluation(int(h) / max(1, n), s / max(1, n), None, a / per) for h, s, a in zip(*figures)]

    def drop(self, rows: list[int]) -> None:
        for row in rows:
            self._write_back(row)
        keep = [row for row in range(len(self.members)) if row not in rows]
        sel = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.params = [p.detach()[sel].requires_grad_() for p in self.params]
        self.x_tr, self.y_tr, self.x_se, self.y_se, self.weight, self.norm0 = (
            t[sel] for t in (self.x_tr, self.y_tr, self.x_se, self.y_se, self.weight, self.norm0))
        self.state, self.state2 = [s[sel] for s in self.state], [s[sel] for s in self.state2]
        self.ema = None if self.ema is None else [e[sel] for e in self.ema]
        self.col = {name: c[sel] for name, c in self.col.items()}
        self.members, self.iters, self.idx, self.own_rows = (
            [xs[row] for row in keep] for xs in (self.members, self.iters, self.idx, self.own_rows))

    @torch.no_grad()
    def _write_back(self, row: int) -> None:
        """Copy one member's trained weights, its own block of each padded tensor, back into
        its module (for holdout, saving)."""
        for layer, linear in enumerate(_linears(self.members[row].model)):
            out, inp = linear.weight.shape
            linear.weight.copy_(self.params[2 * layer][row, :out, :inp])
            if linear.bias is not None:
                linear.bias.copy_(self.params[2 * layer + 1][row, :out])


def train_group(members: list[Member], *, budget: int, threshold: float = 0.99, eval_every: int = 10,
                max_flops: float | None = None, patience: int = 0, hold: float = 0.0,
                hold_window: bool = False, plateau: str = "accuracy", dense: int = 0, charge_evals: bool = False,
                dense_locates: bool = False, give_up: list[float | None] | None = None,
                give_up_in: str = "steps", behind: str = "") -> list[TrainResult]:
    """Results in member order; each member's module holds its trained weights afterwards.
    All members share a group key (group_key) and their task's set sizes; `give_up` holds
    each member's own bar (brains.loop.run)."""
    with flushed_denormals():
        return run(Group(members, charge_evals), len(members), budget=budget, threshold=threshold,
                   eval_every=eval_every, max_flops=max_flops, patience=patience, hold=hold, hold_window=hold_window,
                   plateau=plateau, dense=dense, charge_evals=charge_evals, dense_locates=dense_locates,
                   give_up=give_up, give_up_in=give_up_in, behind=behind)
