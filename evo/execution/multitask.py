"""Multi-task fitness: one pair trained on several operations, scored as one record.

The pair (same encoder, same brain recipe) trains a fresh model per operation, each on the
same split of pairs labelled by its operation. The merged record is what the search ranks:
- cost: the per-task figures at the threshold summed (`sum`: the price of learning them
  all, one after another) or their maximum (`max`: the worst case); missing any task
  misses the whole;
- accuracies: the worst task's (a pair is as good as its weakest task);
- the curve, stop reason and run figures of the bottleneck task (the one that missed with
  the lowest best select accuracy, else the costliest), so that the shortfall penalty of a
  miss and the report's learning curves follow the task that holds the pair back.
Every task's own figures stay in `per_task`, for the report of which spectacles transfer.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from evo.records import Record, credited_select, reached
from evo.settings import TASK_COSTS, RunSettings

SUMMED = ("steps_to_threshold", "flops_to_threshold", "seconds_to_threshold")
WORST_OF = ("train_acc", "select_acc", "holdout_acc", "holdout_acc_unseen_mirror", "holdout_acc_at_threshold")
PER_TASK = (*SUMMED, *WORST_OF, "steps_run", "seconds", "stopped", "diverged", "failed", "error")


def _combine(values: list[Any], rule: str) -> Any:
    if any(v is None for v in values):
        return None
    return sum(values) if rule == "sum" else max(values)


def bottleneck(records: list[dict[str, Any]]) -> int:
    """Index of the task that holds the pair back: a failed run, else the missed run with
    the lowest best select accuracy, else the costliest in FLOPs."""
    failed = [i for i, r in enumerate(records) if r.get("failed")]
    if failed:
        return failed[0]
    missed = [i for i, r in enumerate(records) if not reached(r)]
    if missed:
        return min(missed, key=lambda i: credited_select(records[i]))
    return max(range(len(records)), key=lambda i: records[i]["flops_to_threshold"])


def merge(ops: list[str], records: list[dict[str, Any]], rule: str) -> dict[str, Any]:
    """One record from the per-task records of the same pair (see the module docstring)."""
    if rule not in TASK_COSTS:
        raise ValueError(f"task_cost: {rule!r} is not one of {', '.join(TASK_COSTS)}")
    worst = records[bottleneck(records)]
    merged = {key: value for key, value in worst.items() if key != "weights"}
    if any(r.get("failed") for r in records):
        merged["failed"] = True
    else:
        for key in SUMMED:
            merged[key] = _combine([r[key] for r in records], rule) if all(reached(r) for r in records) else None
        for key in WORST_OF:
            values = [r.get(key) for r in records]
            merged[key] = None if any(v is None for v in values) else min(values)
        merged["diverged"] = any(r["diverged"] for r in records)
        merged["steps_run"] = sum(r["steps_run"] for r in records)
        merged["seconds"] = sum(r["seconds"] for r in records)
    merged["task_cost"], merged["task_count"] = rule, len(records)
    merged["bottleneck"] = ops[records.index(worst)]
    merged["per_task"] = {op: {key: r.get(key) for key in PER_TASK if key in r} for op, r in zip(ops, records)}
    return merged


def evaluate_tasks(run_one: Callable[[RunSettings], Record], settings: RunSettings) -> Record:
    """Train on each of the settings' tasks in turn (`run_one(single-task settings)` gives
    its record) and merge. A re-check's weights are those of the first task (the run's
    `task`, which `inspect` uses)."""
    specs = settings.task_specs()
    records = [run_one(dataclasses.replace(settings, task=spec, tasks=())) for spec in specs]
    merged = merge([spec.op for spec in specs], records, settings.task_cost)
    if "weights" in records[0]:
        merged["weights"] = records[0]["weights"]
    return merged
