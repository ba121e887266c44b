"""(pair, task, seed, budget) -> record: the one place an encoder meets a brain and a task.

The search calls `evaluate` with `report_holdout=False`: then the holdout set is never
encoded or looked at. Only the final report (and `python -m evo train`) asks for it, after
training has ended, so it cannot steer anything.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from brains.models import build_model, count_params
from brains.train import TrainData, loss_function, measure, train
from encoders import build_table, operand_codes, pair_features
from evo.machine import describe
from evo.pair import Pair
from evo.tasks import Split, TaskSpec, make_split


def _features(pair: Pair, table: np.ndarray, split: Split, idx: np.ndarray,
              device: torch.device) -> torch.Tensor:
    a, b = split.pairs[idx, 0], split.pairs[idx, 1]
    if pair.brain.family == "transformer":
        x = operand_codes(table, a, b)
    else:
        x = pair_features(pair.encoder, table, a, b)
    return torch.from_numpy(np.ascontiguousarray(x)).to(device)


def _labels(split: Split, idx: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(split.labels[idx]).to(device)


def evaluate(pair: Pair, task: TaskSpec, *, seed: int, budget: int, threshold: float = 0.99,
             eval_every: int = 10, max_flops: float | None = None, patience: int = 0,
             device: torch.device | str = "cpu", report_holdout: bool = False,
             on_eval: Callable[[dict[str, float]], None] | None = None) -> dict[str, Any]:
    """Train the pair once and return its record (see README, "Output contract")."""
    device = torch.device(device)
    split = make_split(task)
    table = build_table(pair.encoder, task.p)
    data = TrainData(_features(pair, table, split, split.train, device), _labels(split, split.train, device),
                     _features(pair, table, split, split.select, device), _labels(split, split.select, device),
                     n_classes=task.p)
    torch.manual_seed(seed)
    in_dim = table.shape[1] if pair.brain.family == "transformer" else data.x_train.shape[1]
    model = build_model(pair.brain, in_dim, task.p).to(device)
    result = train(model, data, pair.brain, seed=seed, budget=budget, threshold=threshold,
                   eval_every=eval_every, max_flops=max_flops, patience=patience, on_eval=on_eval)
    unseen = split.unseen_mirror()
    holdout: dict[str, float | None] = {"holdout_acc": None, "holdout_loss": None,
                                        "holdout_acc_unseen_mirror": None}
    if report_holdout:
        loss_fn = loss_function(pair.brain, task.p)

        def score(idx: np.ndarray) -> tuple[float, float]:
            return measure(model, _features(pair, table, split, idx, device),
                           _labels(split, idx, device), loss_fn)
        holdout["holdout_acc"], holdout["holdout_loss"] = score(split.holdout)
        if len(unseen):
            holdout["holdout_acc_unseen_mirror"] = score(unseen)[0]
    steps = result.steps_to_threshold
    return {
        "task": {**task.to_dict(), "sizes": split.sizes(),
                 "holdout_unseen_mirror": int(len(unseen))},
        "encoder": pair.encoder.to_dict(),
        "brain": pair.brain.to_dict(),
        "combiner": pair.combiner,
        "seed": seed, "budget": budget, "max_flops": max_flops, "threshold": threshold,
        "eval_every": eval_every,
        "steps_to_threshold": steps,
        "seconds_to_threshold": result.seconds_to_threshold,
        "flops_to_threshold": None if steps is None else steps * result.flops_per_step,
        "flops_per_step": result.flops_per_step,
        "params": count_params(model),
        "steps_run": result.steps_run, "steps_cap": result.steps_cap, "seconds": result.seconds,
        "train_acc": result.train_acc, "select_acc": result.select_acc,
        "train_loss": result.train_loss, "select_loss": result.select_loss,
        **holdout,
        "diverged": result.diverged, "stopped": result.stopped, "patience": patience,
        "machine": describe(device),
        "curve": result.curve,
    }
