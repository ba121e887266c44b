"""A curriculum: train a pair on simpler operations first, then stack new layers on the
trained brain and go on with the next operation (the forum's proposal).

Every stage trains on the target task's own train pairs (labelled by the stage's
operation) and stops on its select pairs, so the target's holdout pairs stay unseen
through all stages. The cost of the curriculum is counted over all stages: steps, FLOPs
and seconds of the earlier stages are added to the last stage's figures.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from brains.layers import activation
from brains.models import count_params
from brains.train import TrainData, train
from evo.evaluate import Prepared, features, holdout_curve, prepare, record_of, state_bytes
from evo.pair import Pair
from evo.tasks import TaskSpec, evaluate_op


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


def stage_data(prep: Prepared, op: str) -> TrainData:
    """The target's train and select pairs, labelled by `op` (pairs `op` cannot answer,
    a divisor 0 mod p, are left out of this stage)."""
    split, p = prep.split, prep.task.p
    labels, valid = evaluate_op(op, split.pairs[:, 0], split.pairs[:, 1], p)

    def part(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        idx = idx[valid[idx]]
        return (features(prep.pair, prep.table, split, idx, prep.device),
                torch.from_numpy(labels[idx]).to(prep.device))
    (x_tr, y_tr), (x_se, y_se) = part(split.train), part(split.select)
    return TrainData(x_tr, y_tr, x_se, y_se, n_classes=p)


def evaluate_curriculum(pair: Pair, ops: list[str], task: TaskSpec, *, seed: int, budget: int,
                        threshold: float = 0.99, eval_every: int = 10, max_flops: float | None = None,
                        patience: int = 0, device: torch.device | str = "cpu", new_hidden: tuple[int, ...] = (128,),
                        freeze: bool = False, read: str = "answer", report_holdout: bool = True,
                        weights: bool = False) -> dict[str, Any]:
    """Train on ops[0], ops[1], ... in turn (each stage up to `budget` steps, stopping at the
    threshold; with `report_holdout`, the last goes on to the cap, as `train` does); the
    record of the last stage, holdout included when asked, with the curriculum's totals."""
    target = replace(task, op=ops[-1])
    prep = prepare(pair, target, seed, torch.device(device))
    in_width = prep.data.x_train[0].numel()
    stages: list[dict[str, Any]] = []
    result = None
    for k, op in enumerate(ops):
        if k > 0:
            torch.manual_seed(seed + k)  # the new layers' initialisation
            prep.model = Stacked(prep.model, in_width, task.p, new_hidden, pair.brain.activation, pair.brain.bias,
                                 freeze, read).to(prep.device)
        last = k == len(ops) - 1
        data = prep.data if op == target.op else stage_data(prep, op)  # the target's data is ready
        result = train(prep.model, data, pair.brain, seed=seed + k, budget=budget,
                       threshold=threshold, eval_every=eval_every, max_flops=max_flops, patience=patience,
                       run_on=last and report_holdout,
                       extra=holdout_curve(prep) if last and report_holdout else None)
        stages.append({"op": op, "steps_run": result.steps_run, "steps_to_threshold": result.steps_to_threshold,
                       "flops_per_step": result.flops_per_step, "seconds": result.seconds,
                       "select_acc": result.select_acc, "train_acc": result.train_acc,
                       "params": count_params(prep.model), "curve": result.curve})
    record = record_of(prep, result, seed=seed, budget=budget, threshold=threshold, eval_every=eval_every,
                       max_flops=max_flops, patience=patience, report_holdout=report_holdout)
    if weights:
        record["weights"] = state_bytes(prep.model)
    before = stages[:-1]
    earlier_steps = sum(s["steps_run"] for s in before)
    earlier_flops = sum(s["steps_run"] * s["flops_per_step"] for s in before)
    earlier_seconds = sum(s["seconds"] for s in before)
    reached = result.steps_to_threshold
    record.update({
        "curriculum": {"ops": list(ops), "new_hidden": list(new_hidden), "freeze": freeze, "read": read,
                       "stages": stages},
        "steps_to_threshold": None if reached is None else earlier_steps + reached,
        "flops_to_threshold": None if reached is None else earlier_flops + reached * result.flops_per_step,
        "seconds_to_threshold": None if reached is None else earlier_seconds + result.seconds_to_threshold,
        "last_stage_steps_to_threshold": reached,
    })
    return record


def evaluate_gene_curriculum(pair: Pair, pool: list[str], task: TaskSpec, **run: Any) -> dict[str, Any]:
    """The curriculum a brain gene asks for: its indices into the run's pool (modulo its
    length) name the earlier operations, its stack fields the new layers."""
    brain = pair.brain
    ops = [pool[i % len(pool)] for i in brain.curriculum] + [task.op]
    return evaluate_curriculum(pair, ops, task, new_hidden=brain.stack_hidden, freeze=brain.stack_freeze,
                               read=brain.stack_read, **run)
