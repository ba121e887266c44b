"""Train one model until its select accuracy reaches a threshold or the step cap: the
brains.loop loop over a one-member back end that trains the module in place.

Knows nothing of tasks or encoders: it is handed tensors. The holdout set is not among
them; the evaluator measures it after training, for the report only.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Callable

import torch
from torch import nn

from brains.carry import Carry, from_bytes, to_bytes
from brains.flops import predict_flops, step_flops, update_flops
from brains.gene import BrainGene
from brains.denormals import flushed_denormals
from brains.loop import Evaluation, StepOut, TrainData, Batches, TrainResult, run
from brains.losses import loss_function, measure, predicted, surely_below
from brains.optim import (equalize_grads, grokfast, hold_norm_, make_optimizers, make_schedulers,
                          orthogonalize_grads, weight_norm)

FF_TRAIN_SAMPLE = 512  # rows of the last batch on which a forward-forward model's train accuracy is read


class Lone:
    """One model, any family, any gene: torch's optimizers and schedulers on the module
    itself, the gradient rules of brains.optim between backward and the update."""

    def __init__(self, model: nn.Module, data: TrainData, gene: BrainGene, seed: int, horizon: int,
                 charge_evals: bool = False):
        self.model, self.data, self.gene = model, data, gene
        self.device = data.x_train.device
        self.loss_fn = loss_function(gene, data.n_classes)
        self.generator = torch.Generator().manual_seed(seed)   # minibatch order, forward-forward negatives
        self.batches = Batches(len(data.x_train), gene.batch_size, self.generator, self.device)
        self.idx = next(self.batches)
        self.local = hasattr(model, "local_loss")  # forward-forward: layer-local objective, no logits
        self.aux = getattr(model, "balance_weight", 0.0) > 0   # brains.router: its load-balancing loss
        self.step_flops = [step_flops(model, *self._batch(), self.loss_fn)
                           + update_flops(model, gene.muon, gene.egalitarian)]
        # a select pass; uncharged, only a forward-forward one (it tries every answer) counts
        self.eval_flops = [predict_flops(model, data.x_select) if self.local or charge_evals else 0]
        self.opts = make_optimizers(model, gene)
        self.scheds = make_schedulers(self.opts, gene, horizon)   # a schedule spans the step budget
        self.slow = None   # the Grokfast filter's state
        self.norm0 = weight_norm(model) if gene.norm_constraint else None
        self.last = self._batch()
        model.train()

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.idx is None:
            return self.data.x_train, self.data.y_train
        return self.data.x_train.index_select(0, self.idx), self.data.y_train.index_select(0, self.idx)

    def step(self) -> StepOut:
        model, gene = self.model, self.gene
        xb, yb = self.last = self._batch()
        correct = None
        if self.local:
            loss = model.local_loss(xb, yb, self.generator)
        else:
            out = model(xb)
            loss = self.loss_fn(out, yb)
            correct = (predicted(out.detach()) == yb).sum().reshape(1)
        for opt in self.opts:
            opt.zero_grad(set_to_none=True)
        # a router's load-balancing term trains with the task loss; the figures report the task loss
        (loss + model.aux_loss() if self.aux else loss).backward()
        if gene.grokfast_lambda > 0:
            self.slow = grokfast(model, self.slow, gene)
        if gene.orthograd:
            orthogonalize_grads(model)
        if gene.egalitarian:
            equalize_grads(model)
        if gene.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), gene.grad_clip)
        for opt in self.opts:
            opt.step()
        if self.norm0 is not None:
            hold_norm_(model, self.norm0)
        for sched in self.scheds:
            sched.step()
        self.idx = next(self.batches)
        return StepOut(loss.detach().reshape(1), correct, [len(yb)])

    def evaluate(self, under: list[float | None] | None = None) -> list[Evaluation]:
        self.model.eval()
        if under and under[0] is not None and surely_below(self.model, self.data.x_select, self.data.y_select,
                                                           under[0]):
            self.model.train()
            return [Evaluation(0.0, math.nan, unread=True)]
        train_acc = None
        if self.local:  # a goodness network's accuracy costs a pass per class: a sample of the last batch
            xb, yb = self.last
            train_acc = measure(self.model, xb[:FF_TRAIN_SAMPLE], yb[:FF_TRAIN_SAMPLE], self.loss_fn)[0]
        select_acc, select_loss, rank = measure(self.model, self.data.x_select, self.data.y_select, self.loss_fn,
                                                rank=True)
        self.model.train()
        return [Evaluation(select_acc, select_loss, train_acc, rank)]

    def drop(self, rows: list[int]) -> None:
        self.model.eval()   # the weights are already in the module

    def state(self, row: int = 0) -> bytes:
        """Everything the next step depends on (brains.carry), as a detached copy."""
        slow = self.slow
        if self.gene.grokfast_filter == "ma" and slow is not None:   # deques: lists, for torch.load
            slow = {name: (list(queue), total) for name, (queue, total) in slow.items()}
        return to_bytes({"model": self.model.state_dict(), "opts": [opt.state_dict() for opt in self.opts],
                         "scheds": [sched.state_dict() for sched in self.scheds], "batches": self.batches.state(), "idx": self.idx,
                         "slow": slow, "norm0": self.norm0})

    def load(self, data: bytes) -> None:
        state = from_bytes(data)
        self.model.load_state_dict(state["model"])
        for opt, saved in zip(self.opts, state["opts"]):
            opt.load_state_dict(saved)
        for sched, saved in zip(self.scheds, state["scheds"]):
            sched.load_state_dict(saved)
        self.batches.load(state["batches"])
        self.idx = None if state["idx"] is None else state["idx"].to(self.device)
        slow = state["slow"]
        if self.gene.grokfast_filter == "ma" and slow is not None:
            slow = {name: (deque(queue), total) for name, (queue, total) in slow.items()}
        self.slow, self.norm0 = slow, state["norm0"]


def train(model: nn.Module, data: TrainData, gene: BrainGene, *, seed: int, budget: int,
          threshold: float = 0.99, eval_every: int = 10, max_flops: float | None = None,
          patience: int = 0, on_eval: Callable[[dict[str, float]], None] | None = None,
          run_on: bool = False, hold: float = 0.0, hold_window: bool = False, plateau: str = "accuracy",
          extra: Callable[[nn.Module], dict[str, float]] | None = None, start: Carry | None = None,
          keep: bool = False, dense: int = 0, charge_evals: bool = False, dense_locates: bool = False,
          give_up: float | None = None, give_up_in: str = "steps", behind: str = "") -> TrainResult:
    """Train in place. Evaluates at every step up to `dense`, then at multiples of
    eval_every, and at the last step (`charge_evals`: each evaluation's FLOPs count, `dense_locates`:
    only those of the sparse cadence; brains.loop.run):
    select accuracy and loss over the whole select set; train accuracy and loss over the
    training batches of the steps since the previous evaluation (from their own forward
    passes, before each update; a forward-forward model's train accuracy is measured on the
    first FF_TRAIN_SAMPLE rows of the last batch, after it). Stops at the first evaluation
    with select accuracy >= threshold, or on a plateau (see brains.stopping.StopRule;
    patience 0 = never; `plateau` names the figure that must gain). With `run_on`, a run that reached the threshold goes on to the step
    cap (the first crossing stays its figure): a holdout measured at the crossing sits just
    under the threshold by selection alone, so the report measures it after the cap.
    `hold` > 0: a crossing counts only if select holds to the end of the run, the step cap or
    `hold` times the crossing step again, whichever is later (`hold_window`: the latter alone; brains.loop.run).
    `extra(model)` adds figures to each evaluation point (the report's holdout curve); its
    time is left out of the run's clock, and nothing decides on it.

    `give_up`: stop as "beaten" once a crossing would cost at least this many `give_up_in`;
    `behind`: a crossing at or past it ends the run unheld (brains.loop.run).

    `max_flops` lowers the step cap of expensive models so that no run costs more than
    that many training FLOPs: a bound that, unlike a time limit, is the same on every machine.

    `keep`: the result carries the run's state at its step cap (brains.carry; none under a
    learning-rate schedule that spans the budget), and `start` goes on from such a carry (`model` then freshly built from the same seed): the figures
    are those of one run to this budget (brains.loop.run).
    """
    with flushed_denormals():
        backend = Lone(model, data, gene, seed, horizon=budget, charge_evals=charge_evals)
        return run(backend, 1, budget=budget, threshold=threshold, eval_every=eval_every, max_flops=max_flops,
                   patience=patience, run_on=run_on, hold=hold, hold_window=hold_window, plateau=plateau, dense=dense,
                   charge_evals=charge_evals, dense_locates=dense_locates, give_up=[give_up], give_up_in=give_up_in,
                   behind=behind,
                   on_eval=None if on_eval is None else lambda _, point: on_eval(point),
                   extra=None if extra is None else lambda _: extra(model), start=start,
                   keep=keep and carriable(gene))[0]


def carriable(gene: BrainGene) -> bool:
    """Whether a run's prefix is the same whatever its budget, so that a longer run can go on
    from it (brains.carry): not under a schedule that spans the budget."""
    return gene.lr_schedule == "constant"
