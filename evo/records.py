"""The record of one training run: the one shape every figure travels in, from the worker
to the cache, the checkpoint, front.json and the views.

Records stay plain JSON objects (the cache and the checkpoint are JSON, and every joblib
backend ships them as they are); these TypedDicts say what they hold, and the helpers
below are the one place that reads a record's verdict.
"""
from __future__ import annotations

from typing import Any, TypedDict

from brains.cadence import Cadence


class CurvePoint(TypedDict, total=False):
    step: int
    train_acc: float
    select_acc: float
    train_loss: float
    select_loss: float
    holdout_acc: float        # only in a re-check's curve (the report's pictures)


class Record(TypedDict, total=False):
    """What evo.execution.evaluate.record_of writes; multi-task and curriculum runs add
    `per_task`, `task_cost`, `task_count`, `bottleneck` and `curriculum`; a failed run
    holds `failed`, `error` and `traceback` with the genes; the search adds `generation`."""

    task: dict[str, Any]
    encoder: dict[str, Any]
    brain: dict[str, Any]
    combiner: str
    seed: int
    budget: int
    max_flops: float | None
    threshold: float
    eval_every: int
    patience: int
    steps_to_threshold: int | None
    seconds_to_threshold: float | None
    flops_to_threshold: float | None
    flops_per_step: int
    flops_per_eval: int       # with charge_evals: each select evaluation's FLOPs (absent: free)
    evals_run: int            # with charge_evals
    eval_dense: int           # evaluated at every step up to this one (absent: 0)
    charge_evals: bool
    params: int | None
    steps_run: int
    steps_cap: int
    seconds: float
    group_size: int
    train_acc: float
    select_acc: float
    train_loss: float
    select_loss: float
    holdout_acc: float | None
    holdout_loss: float | None
    holdout_acc_unseen_mirror: float | None
    holdout_acc_at_threshold: float | None
    diverged: bool
    stopped: str
    machine: dict[str, Any]
    curve: list[CurvePoint]
    failed: bool
    error: str
    generation: int


def best_select(record: Record) -> float:
    """The best select accuracy the run saw at any evaluation (its last may be lower)."""
    return max((point["select_acc"] for point in record.get("curve", ())), default=0.0)


def judged(record: Record) -> list[dict[str, float]]:
    """The curve points that count, for a miss's rank and for the evaluations charged: all,
    or under `dense_locates` those on the eval_every grid and the last, as if the run had
    never read select densely (the best of many noisy early reads is not progress, and the
    dense reads are the instrument's)."""
    curve = list(record.get("curve", ()))
    if not record.get("dense_locates") or not curve:
        return curve
    every = record.get("eval_every", 10)
    return [p for p in curve[:-1] if p["step"] % every == 0] + curve[-1:]


def credited_select(record: Record) -> float:
    """The select accuracy a miss is ranked by: its best (over `judged` points), but for a
    run whose crossing did not hold (the run's `hold`), its last, so that a pair that decays
    is a miss with its late shortfall rather than the best of misses."""
    if record.get("crossings_lost"):
        curve = record.get("curve") or [{"select_acc": 0.0}]
        return curve[-1]["select_acc"]
    return max((point["select_acc"] for point in judged(record)), default=0.0)


def credited_rank(record: Record) -> float | None:
    """The rank of the right answer (brains.losses.outranked) a miss is ranked by under
    `--rank-misses progress`: its best, or its last after a lost crossing; None for a
    record made before curves carried it."""
    ranks = [point["select_rank"] for point in judged(record) if "select_rank" in point]
    if not ranks:
        return None
    return ranks[-1] if record.get("crossings_lost") else min(ranks)


def reached(record: Record) -> bool:
    """The run reached the threshold (and neither failed nor diverged)."""
    return not record.get("failed") and record.get("steps_to_threshold") is not None \
        and not record.get("diverged")


def billed(record: Record) -> Cadence:
    """The cadence whose evaluations a run is charged for (brains.cadence.Cadence.billed)."""
    cadence = Cadence(record.get("eval_every", 10), record.get("eval_dense", 0))
    return cadence.billed(record.get("dense_locates", False))


def run_flops(record: Record, since: int = 0) -> float:
    """The FLOPs a run (or a curriculum stage) trained from step `since` on: its steps, and
    under charged evaluations its `judged` select evaluations after `since`."""
    per_eval = record.get("flops_per_eval", 0)
    evals = sum(point["step"] > since for point in judged(record)) if per_eval else 0
    return (record["steps_run"] - since) * record["flops_per_step"] + evals * per_eval


def cap_flops(record: Record) -> float:
    """What a run to its step cap costs: its steps and the evaluations charged to it."""
    return record["steps_cap"] * record["flops_per_step"] + \
        billed(record).through(record["steps_cap"]) * record.get("flops_per_eval", 0)
