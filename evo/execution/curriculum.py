"""A curriculum: train a pair on simpler operations first, then stack new layers on the
trained brain and go on with the next operation (the forum's proposal). A router brain
instead hands its trained blocks to the next stage's router, which adds new blocks
(brains.router.Router.handed_over): "learn simple operations first, add blocks, continue".

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

from brains.models import count_params
from brains.router import Router
from brains.stacked import Stacked
from brains.loop import TrainData
from brains.train import train
from evo.execution.evaluate import (Prepared, device_of, features, holdout_curve, prepare, record_of, state_bytes,
                                    train_options)
from evo.pair import Pair
from evo.records import Record, run_flops
from evo.settings import RunSettings
from evo.tasks import evaluate_op


def stage_data(prep: Prepared, op: str) -> TrainData:
    """The target's train and select pairs, labelled by `op` (pairs `op` cannot answer,
    a divisor 0 mod p, are left out of this stage)."""
    split, p = prep.split, prep.task.p
    labels, valid = evaluate_op(op, split.pairs[:, 0], split.pairs[:, 1], p)

    def part(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        idx = idx[valid[idx]]
        return (features(prep.pair, prep.table, split, idx, prep.device),
                torch.from_numpy(labels[idx]).to(prep.device))
    (x_tr, y_tr), (x_se, y_se) = part(split.train), part(prep.select)
    return TrainData(x_tr, y_tr, x_se, y_se, n_classes=p)


def stage_settings(target: RunSettings, k: int, stages: int, used_steps: int, used_flops: float) -> RunSettings:
    """Stage k's run settings: the step budget and the FLOP cap cover the whole curriculum,
    so each stage gets what the earlier ones left, less one evaluation's steps kept for each
    later stage (and the FLOPs in the same share). An earlier stage stops at its first
    crossing (no hold: it only prepares the next); the last is held like any run."""
    later = stages - 1 - k
    left = target.budget - used_steps
    budget = max(1, left - later * target.eval_every)
    flops = None if target.max_flops is None else max(1.0, (target.max_flops - used_flops) * budget / max(1, left))
    return replace(target, seed=target.seed + k, budget=budget, max_flops=flops, hold=target.hold if not later else 0.0)


def evaluate_curriculum(pair: Pair, ops: list[str], settings: RunSettings, *, new_hidden: tuple[int, ...] = (128,),
                        freeze: bool = False, read: str = "answer", report_holdout: bool = True,
                        weights: bool = False) -> Record:
    """Train on ops[0], ops[1], ... in turn (all stages together within the settings' step
    budget and FLOP cap, see stage_settings; each stops at the threshold; with
    `report_holdout`, the last goes on to its cap, as `train` does);
    the record of the last stage, holdout included when asked, with the curriculum's totals."""
    target = replace(settings, task=replace(settings.task, op=ops[-1]))
    seed, p = settings.seed, settings.task.p
    prep = prepare(pair, target.task, seed, device_of(pair, settings), settings.select)
    in_width = prep.data.x_train[0].numel()
    stages: list[dict[str, Any]] = []
    result = None
    used_steps, used_flops = 0, 0.0
    for k, op in enumerate(ops):
        if k > 0:
            torch.manual_seed(seed + k)  # the new layers' initialisation
            if isinstance(prep.model, Router):   # the trained blocks go on in a new router, with new blocks
                prep.model = prep.model.handed_over(pair.brain, p, new_hidden, freeze)
            else:
                prep.model = Stacked(prep.model, in_width, p, new_hidden, pair.brain.activation, pair.brain.bias,
                                     freeze, read).to(prep.device)
        last = k == len(ops) - 1
        data = prep.data if op == target.task.op else stage_data(prep, op)  # the target's data is ready
        result = train(prep.model, data, pair.brain, **train_options(stage_settings(target, k, len(ops),
                                                                                   used_steps, used_flops)),
                       run_on=last and report_holdout,
                       extra=holdout_curve(prep) if last and report_holdout else None)
        stages.append({"op": op, "steps_run": result.steps_run, "steps_to_threshold": result.steps_to_threshold,
                       "flops_per_step": result.flops_per_step, "flops_per_eval": result.flops_per_eval,
                       **({"eval_every": target.eval_every, "eval_dense": target.eval_dense, "dense_locates": True}
                          if target.dense_locates and target.eval_dense else {}),
                       "seconds": result.seconds,
                       "select_acc": result.select_acc, "train_acc": result.train_acc,
                       "params": count_params(prep.model), "curve": result.curve})
        used_steps += result.steps_run
        used_flops += run_flops(stages[-1])
    record = record_of(prep, result, target, report_holdout=report_holdout)
    if weights:
        record["weights"] = state_bytes(prep.model)
    before = stages[:-1]
    earlier_steps = sum(s["steps_run"] for s in before)
    earlier_flops = sum(run_flops(s) for s in before)
    earlier_seconds = sum(s["seconds"] for s in before)
    reached = result.steps_to_threshold
    record.update({
        "curriculum": {"ops": list(ops), "new_hidden": list(new_hidden), "freeze": freeze, "read": read,
                       "stages": stages},
        "steps_to_threshold": None if reached is None else earlier_steps + reached,
        "flops_to_threshold": None if reached is None else earlier_flops + record["flops_to_threshold"],
        "seconds_to_threshold": None if reached is None else earlier_seconds + result.seconds_to_threshold,
        "last_stage_steps_to_threshold": reached,
    })
    return record


def evaluate_gene_curriculum(pair: Pair, settings: RunSettings, **options: Any) -> Record:
    """The curriculum a brain gene asks for: its indices into the run's pool (modulo its
    length) name the earlier operations, its stack fields the new layers (router: blocks)."""
    brain, pool = pair.brain, settings.curriculum_pool
    ops = [pool[i % len(pool)] for i in brain.curriculum] + [settings.task.op]
    return evaluate_curriculum(pair, ops, settings, new_hidden=brain.stack_hidden, freeze=brain.stack_freeze,
                               read=brain.stack_read, **options)
