"""(pair, run settings) -> record: the one place an encoder meets a brain and a task.

The search calls `evaluate` with `report_holdout=False`: then the holdout set is never
encoded or measured (its size is recorded). Only the final re-checks (and `python -m evo
train`) ask for it, after training has ended, so it cannot steer anything.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from brains.models import build_model, count_params
from brains.batched import Member, group_key, train_group
from brains.carry import Carry
from brains.loop import TrainData, TrainResult
from brains.losses import loss_function, measure
from brains.train import train
from encoders import build_table, feature_dim, operand_codes, pair_features
from evo.machine import describe, run_device
from evo.pair import Pair
from evo.records import Record
from evo.settings import RunSettings
from evo.tasks import Split, TaskSpec, make_split


def features(pair: Pair, table: np.ndarray, split: Split, idx: np.ndarray,
              device: torch.device) -> torch.Tensor:
    a, b = split.pairs[idx, 0], split.pairs[idx, 1]
    if pair.brain.family == "transformer":
        x = operand_codes(table, a, b)
    else:
        x = pair_features(pair.encoder, table, a, b)
    return torch.from_numpy(np.ascontiguousarray(x)).to(device)


def labels(split: Split, idx: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(split.labels[idx]).to(device)


@dataclass
class Prepared:
    """One pair made ready to train: its split, code table, tensors and fresh model."""

    pair: Pair
    task: TaskSpec
    split: Split
    table: np.ndarray
    data: TrainData
    model: torch.nn.Module
    device: torch.device
    select: np.ndarray       # the select pairs the run is scored on (Split.scored_select)


def prepare(pair: Pair, task: TaskSpec, seed: int, device: torch.device, select: str = "all") -> Prepared:
    split = make_split(task)
    scored = split.scored_select(select)
    table = build_table(pair.encoder, task.p)
    data = TrainData(features(pair, table, split, split.train, device), labels(split, split.train, device),
                     features(pair, table, split, scored, device), labels(split, scored, device),
                     n_classes=task.p)
    torch.manual_seed(seed)
    in_dim = table.shape[1] if pair.brain.family == "transformer" else data.x_train.shape[1]
    return Prepared(pair, task, split, table, data, build_model(pair.brain, in_dim, task.p).to(device), device,
                    scored)


def record_of(prep: Prepared, result: TrainResult, settings: RunSettings, *, report_holdout: bool,
              group_size: int = 1, give_up: float | None = None) -> Record:
    """The record of a trained pair; holdout is encoded and measured here, after training,
    and only when asked (the final report). `give_up`: the run's bar, where it had one."""
    pair, task, split, model, device = prep.pair, prep.task, prep.split, prep.model, prep.device
    unseen = split.unseen_mirror()
    holdout: dict[str, float | None] = {"holdout_acc": None, "holdout_loss": None,
                                        "holdout_acc_unseen_mirror": None, "holdout_acc_at_threshold": None}
    if report_holdout:
        loss_fn = loss_function(pair.brain, task.p)

        def score(idx: np.ndarray) -> tuple[float, float]:
            return measure(model, features(pair, prep.table, split, idx, device),
                           labels(split, idx, device), loss_fn)
        holdout["holdout_acc"], holdout["holdout_loss"] = score(split.holdout)
        if len(unseen):
            holdout["holdout_acc_unseen_mirror"] = score(unseen)[0]
        # where select first reached the threshold (a run that went on may improve or decay)
        holdout["holdout_acc_at_threshold"] = next(
            (pt.get("holdout_acc") for pt in result.curve if pt["step"] == result.steps_to_threshold), None)
    steps = result.steps_to_threshold
    held = {"hold": settings.hold, "crossings_lost": result.crossings_lost} if settings.hold else {}
    return {
        "task": {**task.to_dict(), "sizes": split.sizes(), "holdout_unseen_mirror": int(len(unseen)),
                 **({"select_scored": int(len(prep.select)), "select": settings.select}
                    if settings.select != "all" else {})},
        "encoder": pair.encoder.to_dict(),
        "brain": pair.brain.to_dict(),
        "combiner": pair.combiner,
        "seed": settings.seed, "budget": settings.budget, "max_flops": settings.max_flops,
        "threshold": settings.threshold, "eval_every": settings.eval_every,
        "steps_to_threshold": steps,
        "seconds_to_threshold": result.seconds_to_threshold,
        "flops_to_threshold": None if steps is None else
        steps * result.flops_per_step + result.evals_to_threshold * result.flops_per_eval,
        "flops_per_step": result.flops_per_step,
        **({"flops_per_eval": result.flops_per_eval, "evals_run": result.evals_run, "charge_evals": True}
           if settings.charge_evals else {}),
        **({"dense_locates": True} if settings.dense_locates and settings.eval_dense else {}),
        **({"eval_dense": settings.eval_dense} if settings.eval_dense else {}),
        "params": count_params(model),
        "steps_run": result.steps_run, "steps_cap": result.steps_cap, "seconds": result.seconds,
        "group_size": group_size,
        "train_acc": result.train_acc, "select_acc": result.select_acc,
        "train_loss": result.train_loss, "select_loss": result.select_loss,
        **holdout,
        "diverged": result.diverged, "stopped": result.stopped, "patience": settings.patience, **held,
        **({"give_up": {"bar": give_up, "in": settings.give_up_in}} if result.stopped in ("beaten", "behind") else {}),
        "machine": describe(device),
        "curve": result.curve,
    }


def holdout_curve(prep: Prepared) -> Callable[[torch.nn.Module], dict[str, float]]:
    """Holdout accuracy at each evaluation of a report run (the learning-curve pictures);
    training never reads it."""
    x = features(prep.pair, prep.table, prep.split, prep.split.holdout, prep.device)
    y = labels(prep.split, prep.split.holdout, prep.device)
    loss_fn = loss_function(prep.pair.brain, prep.task.p)

    def figures(model: torch.nn.Module) -> dict[str, float]:
        model.eval()
        acc = measure(model, x, y, loss_fn)[0]
        model.train()
        return {"holdout_acc": acc}
    return figures


def evaluate(pair: Pair, settings: RunSettings, *, report_holdout: bool = False,
             on_eval: Callable[[dict[str, float]], None] | None = None,
             run_on: bool | None = None, weights: bool = False, start: Carry | None = None,
             keep: bool = False) -> Record:
    """Train the pair once and return its record (its fields: evo.records.Record). A run that
    reports holdout goes on past the threshold to the step cap unless `run_on` is False
    (brains.train.train says why). With `weights`, the record also carries the trained
    state dict as torch.save bytes under "weights" (the caller writes and strips them); with
    `keep`, the run's state to go on from under "carry" (None where it would stop anyway;
    the caller strips it), and `start` goes on from one (brains.carry)."""
    began = time.perf_counter()
    prep = prepare(pair, settings.task, settings.seed, device_of(pair, settings), settings.select)
    prepared = time.perf_counter()
    bar = settings.bar(count_params(prep.model))
    result = train(prep.model, prep.data, pair.brain, **train_options(settings), on_eval=on_eval,
                   run_on=report_holdout if run_on is None else run_on,
                   extra=holdout_curve(prep) if report_holdout else None, start=start, keep=keep,
                   give_up=bar, give_up_in=settings.give_up_in, behind=settings.behind)
    trained = time.perf_counter()
    record = record_of(prep, result, settings, report_holdout=report_holdout, give_up=bar)
    record["profile"] = profile(prepared - began, trained - prepared, result, time.perf_counter() - trained,
                                carried=start)
    if weights:
        record["weights"] = state_bytes(prep.model)
    if keep:
        record["carry"] = result.carry
        record["profile"]["carry_bytes"] = result.carry.size if result.carry else 0
    return record


def profile(prepare_s: float, train_wall: float, result: TrainResult, record_s: float,
            share: float = 1.0, carried: Carry | None = None) -> dict[str, float]:
    """Where a run's worker time went (the phase profile of experiments/bench_run.py):
    `prepare` (split, encoding, model), `setup` (FLOP counting, optimizer; for a re-check
    also its holdout curve, which the run's clock leaves out), `steps` (training steps),
    `evaluations` (select passes), `record` (holdout measured, for a re-check). A member of
    a batched group gets its `share` of the group's time. A run that went on from a carry
    (brains.carry) counts only its own part, and `from_step` says where it began (its
    record's steps and seconds are those of the whole run). Wall-clock figures: nothing
    decides on them, and the tests that compare runs leave them out."""
    seconds = result.seconds - (carried.seconds if carried else 0.0)
    evals = result.eval_seconds - (carried.eval_seconds if carried else 0.0)
    return {"prepare": prepare_s, "setup": (train_wall - seconds) * share, "steps": (seconds - evals) * share,
            "evaluations": evals * share, "record": record_s, "from_step": carried.step if carried else 0}


def train_options(settings: RunSettings) -> dict[str, Any]:
    """The trainer's keyword arguments that come from the run settings."""
    return {"seed": settings.seed, "budget": settings.budget, "threshold": settings.threshold,
            "eval_every": settings.eval_every, "max_flops": settings.max_flops, "patience": settings.patience,
            "hold": settings.hold, "hold_window": settings.hold_window, "plateau": settings.plateau,
            "dense": settings.eval_dense, "charge_evals": settings.charge_evals, "dense_locates": settings.dense_locates}


def state_bytes(model: torch.nn.Module) -> bytes:
    """The trained state dict as torch.save bytes (inspect loads them with weights_only)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def batch_key(pair: Pair, settings: RunSettings) -> str | None:
    """Pairs with equal keys can train as one batched computation: the same cell of
    brains.batched's grid of padded shapes (brains.batched.group_key, from the brain gene and
    the feature width) and the same run settings but the seed (so the same task, data sizes
    and device); None = train alone (what brains.batched does not implement: transformers,
    forward-forward, Grokfast-MA; and curricula and multi-task runs). Read from the genes,
    without building anything, so that the scorer can plan units of work before any worker
    starts."""
    if pair.brain.curriculum or settings.tasks:
        return None
    try:
        width = feature_dim(pair.encoder, settings.task.p)
    except Exception:  # noqa: BLE001  (a bad gene fails in its own run, with its message)
        return None
    key = group_key(pair.brain, width)
    if key is None:
        return None
    rest = {k: v for k, v in settings.to_dict().items() if k != "seed"}
    return json.dumps([repr(key), device_of(pair, settings).type, rest], sort_keys=True, default=str)


def step_estimate(pair: Pair, settings: RunSettings) -> float:
    """One training step's FLOPs, estimated from the genes (6 x rows x weights; a curriculum's
    or a multi-task run's first network). Read before anything is built: it orders the work
    (work_estimate) and, under --device mixed, picks a run's device (device_of)."""
    brain, p = pair.brain, settings.task.p
    rows = max(1, round(p * p * settings.task.train_frac))
    if 0 < brain.batch_size < rows:
        rows = brain.batch_size
    try:
        width = feature_dim(pair.encoder, p)
    except Exception:  # noqa: BLE001  (a bad gene fails fast in its own run)
        return 0.0
    if brain.family == "transformer":
        d = brain.d_model
        weights = width * d + brain.n_layers * (4 * d * d + 2 * d * brain.d_mlp) + d * p
        rows *= 3   # three tokens
    elif brain.family == "router":   # every block runs at every step (brains.router)
        d, k = brain.router_dim, len(brain.router_blocks)
        weights = width * d + brain.router_steps * (sum(2 * d * w for w in brain.router_blocks) + d * k) + d * p
    else:
        dims = [width, *brain.hidden, p]
        weights = sum(a * b for a, b in zip(dims, dims[1:]))
    return 6.0 * rows * weights


def work_estimate(pair: Pair, settings: RunSettings) -> float:
    """A run's training FLOPs at its step cap (step_estimate times the steps, the cap lowered
    by the FLOP budget): only for ordering the work longest first, so that a generation does
    not end waiting on one long run that started last. Nothing else reads it."""
    per_step = step_estimate(pair, settings)
    if per_step <= 0:
        return 0.0
    steps = settings.budget if settings.max_flops is None else min(settings.budget, settings.max_flops / per_step)
    return per_step * steps * max(1, len(settings.tasks)) * (1 + len(pair.brain.curriculum))


def device_of(pair: Pair, settings: RunSettings) -> torch.device:
    """Where this pair's run trains: the settings' device, or under --device mixed the GPU
    or the CPU by the run's estimated step (evo.machine.run_device)."""
    return run_device(settings.device, step_estimate(pair, settings))


def evaluate_group(pairs: list[Pair], settings: list[RunSettings], *,
                   report_holdout: bool = False) -> list[Record]:
    """Records of (pair, settings) jobs that differ at most in their seed, in order; MLP
    pairs of one cell of brains.batched's grid are trained together, padded (a pair alone in
    its cell too, so that its figures do not depend on its company), the rest one by one. Every
    run stops at the threshold, even one that reports holdout (no `run_on` here: the scorer
    trains re-checks alone)."""
    preps, prepare_s = [], []
    for pair, s in zip(pairs, settings):
        began = time.perf_counter()
        preps.append(prepare(pair, s.task, s.seed, device_of(pair, s), s.select))
        prepare_s.append(time.perf_counter() - began)
    groups: dict[Any, list[int]] = {}
    for i, (pair, s) in enumerate(zip(pairs, settings)):
        key = batch_key(pair, s)
        groups.setdefault(key if key is not None else ("alone", i), []).append(i)
    results: dict[int, TrainResult] = {}
    walls: dict[int, float] = {}
    bars = [s.bar(count_params(prep.model)) for prep, s in zip(preps, settings)]
    for key, members in groups.items():
        began = time.perf_counter()
        if isinstance(key, tuple):   # no key: the lone trainer
            i = members[0]
            results[i] = train(preps[i].model, preps[i].data, preps[i].pair.brain, **train_options(settings[i]),
                               give_up=bars[i], give_up_in=settings[i].give_up_in, behind=settings[i].behind)
        else:   # a group, even of one: a member's figures must not depend on its company
            options = train_options(settings[members[0]])
            options.pop("seed")
            trained = train_group([Member(preps[i].model, preps[i].pair.brain, preps[i].data, settings[i].seed)
                                   for i in members], **options, give_up=[bars[i] for i in members],
                                  give_up_in=settings[members[0]].give_up_in, behind=settings[members[0]].behind)
            results.update(zip(members, trained))
        walls.update({i: time.perf_counter() - began for i in members})
    size = {i: len(members) for members in groups.values() for i in members}
    records = []
    for i in range(len(pairs)):
        began = time.perf_counter()
        record = record_of(preps[i], results[i], settings[i], report_holdout=report_holdout, group_size=size[i],
                           give_up=bars[i])
        record["profile"] = profile(prepare_s[i], walls[i], results[i], time.perf_counter() - began, 1 / size[i])
        records.append(record)
    return records
