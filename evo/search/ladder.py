"""The data objective's ladder: how little training data a pair needs.

A pair that reaches the threshold at the run's training fraction trains again at each
smaller fraction of the ladder in turn (RunConfig.ladder), and stops at the first it
misses: its `lowest_frac` is the smallest fraction it reached, the third objective. Every
fraction's run is a plain run under its own settings, cached under its own key, so a
resume or a later generation finds it. Select and holdout stay the same at every fraction
and each training set holds the next smaller one (evo.tasks.spec.TaskSpec.pool_frac), so
a lower fraction asks for the same answers from less data, never from other data.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from evo.records import Record, reached
from evo.search.scoring import shortfall
from evo.settings import RunSettings

CREDIT_CAP = 0.99   # a miss's credit stays below a reach: it never moves a pair the whole way to the next fraction


def settings_at(settings: RunSettings, frac: float) -> RunSettings:
    """The run settings at training fraction `frac` of a ladder that starts at the
    settings' own fraction (the pool its select and holdout are drawn outside of).

    No plateau stop: with less data a network memorizes first and generalizes later, and a
    stop read at step 60 cut that off (measured: every 10% run of the first add search
    stopped there at select 0.00-0.01, README "Learning from less"). Each walk ends at its
    first miss, so a pair pays for one run to the cap at most.

    The step budget and the FLOP cap grow as the fraction shrinks (top / frac times, the
    budget on the evaluation grid), so that a miss at a fraction is a miss of the data, not
    of a cap set for the top: from less data a pair needs more steps, and more FLOPs too
    (measured on add mod 97: the 0.2 runs crossed at 220-350 of 500 steps; with the steps
    scaled alone, the 0.15 runs that missed stopped at the FLOP cap at select 0.25-0.91).
    Walks end at their first miss, so the cost stays a few plain runs per walking pair
    (README "Learning from less" gives the search's measured cost)."""
    task = settings.task
    if frac == task.train_frac:
        return settings
    every, scale = settings.eval_every, task.train_frac / frac
    budget = max(settings.budget, math.ceil(settings.budget * scale / every) * every)
    flops = None if settings.max_flops is None else settings.max_flops * scale
    return dataclasses.replace(settings, task=dataclasses.replace(task, train_frac=frac, pool_frac=task.pool),
                               patience=0, budget=budget, max_flops=flops)


def step_of(frac: float, record: Record) -> dict[str, Any]:
    """One rung of a pair's ladder, as its top record keeps it (the report's picture)."""
    return {"train_frac": frac, "steps_to_threshold": record.get("steps_to_threshold"),
            "flops_to_threshold": record.get("flops_to_threshold"), "reached": reached(record)}


def annotated(top: Record, frac: float, walked: list[tuple[float, Record]], credit: str = "reached",
              progress: bool = False) -> Record:
    """The top-fraction record with its ladder and `lowest_frac`: the smallest fraction,
    the top one included, whose run reached the threshold (the walk stops at the first miss).
    With `credit` "progress", also its `data_value` (credited)."""
    steps = [step_of(frac, top)] + [step_of(f, r) for f, r in walked]
    lowest = min(s["train_frac"] for s in steps if s["reached"])
    out = {**top, "ladder": steps, "lowest_frac": lowest}
    if credit == "progress":
        out["data_value"] = credited(lowest, walked, progress)
    return out


def credited(lowest: float, walked: list[tuple[float, Record]], progress: bool = False) -> float:
    """The data objective with the walk's first miss credited: log10 of the lowest fraction
    reached, moved towards log10 of the fraction it missed by the miss's progress there
    (1 - its shortfall, evo.search.scoring.shortfall: select accuracy over the threshold, or
    with `progress` one minus twice the rank of the right answer; capped at CREDIT_CAP).

    Why: without it every pair that reaches 15% but misses 10% scores the same, whether it
    ended its 10% run at chance or at 0.98, so the search has no gradient towards the next
    fraction down; the rank of misses by their shortfall gives the cost objective the same
    gradient (README "Learning from less"). A walk that reached every fraction has no miss
    to credit."""
    here = math.log10(lowest)
    misses = [(f, r) for f, r in walked if not reached(r)]
    if not misses:
        return here
    frac, record = misses[0]
    gain = min(CREDIT_CAP, max(0.0, 1.0 - shortfall(record, progress)))
    return here + (math.log10(frac) - here) * gain
