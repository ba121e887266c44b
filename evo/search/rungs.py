"""Rungs: successive halving inside a generation, as in Hyperband.

A generation's new pairs first train on the lowest rung's budget; the best 1/eta of them by
a select-only rank (evo.search.scoring.cost), and every pair that reached the threshold, go
on to the next rung, and so on up to the top rung, which is the run's own --budget and
--max-flops. A pair that reached the threshold skips the rungs between: its crossing is
confirmed where every front member's is, on the top rung.

A promoted pair trains again from its start on the larger budget (no weights carried):
runs are deterministic, so its figures equal a single run to that budget, and the repeated
prefix costs at most 1/(eta - 1) of the promoted pairs' steps (README "Rungs" gives the
share measured on the main job). A pair that stops below the top keeps its highest rung's
record as its verdict, marked with `rung`; every rung's record is in the cache under its
own settings.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from evo.records import Record, cap_flops, reached
from evo.settings import RunSettings


def budgets(budget: int, rungs: int, eta: int, min_budget: int, eval_every: int) -> list[int]:
    """The step budgets of the rungs, lowest first, the last = `budget`. Without a
    `min_budget` (0) each rung has 1/eta of the next one's budget; with one, the budgets
    run geometrically from it to `budget`. Rounded to whole evaluations."""
    if rungs == 1:
        return [budget]
    low = min_budget or budget / eta ** (rungs - 1)
    out = [max(eval_every, round(budget * (low / budget) ** ((rungs - 1 - r) / (rungs - 1)) / eval_every)
               * eval_every) for r in range(rungs - 1)]
    return [*out, budget]


def check(budget_list: list[int]) -> str | None:
    """Why these budgets cannot be rungs (each must exceed the one below), or None."""
    for low, high in zip(budget_list, budget_list[1:]):
        if low >= high:
            return f"the rungs' budgets {budget_list} do not rise (each must exceed the one below)"
    return None


def settings_at(settings: RunSettings, budget: int) -> RunSettings:
    """The run settings of a rung: its step budget, and the FLOP cap scaled alike."""
    if budget == settings.budget:
        return settings
    flops = None if settings.max_flops is None else settings.max_flops * budget / settings.budget
    return dataclasses.replace(settings, budget=budget, max_flops=flops)


def promoted(records: list[Record], eta: int, rank: Any) -> tuple[list[int], list[int]]:
    """Indices of (the pairs that go to the next rung, those that reached the threshold):
    the best ceil(n / eta) by `rank` (a record -> number, lower is better; ties keep their
    order) and every pair that reached."""
    order = sorted(range(len(records)), key=lambda i: rank(records[i]))
    keep = set(order[:math.ceil(len(records) / eta)])
    hits = [i for i in range(len(records)) if reached(records[i])]
    return sorted(keep - set(hits)), hits


def verdict(record: Record, at: int, budget_list: list[int], top: RunSettings) -> Record:
    """The record a pair that stopped on rung `at` is scored by: its rung's run, marked with
    where it stopped and the top rung's caps, at which a miss is priced (so that stopping
    low never looks cheaper than missing at the top)."""
    return {**record, "rung": {"at": at, "budgets": budget_list, "max_flops": top.max_flops}}


def priced_caps(record: dict[str, Any]) -> tuple[int, float | None, float]:
    """(step budget, FLOP cap, own FLOP cap) a miss is priced at: its own run's, or for a
    verdict of a lower rung, the top rung's."""
    own = cap_flops(record)
    rung = record.get("rung")
    if not rung:
        return record["budget"], record.get("max_flops"), own
    scale = rung["budgets"][-1] / rung["budgets"][rung["at"]]
    return rung["budgets"][-1], rung["max_flops"], own * scale
