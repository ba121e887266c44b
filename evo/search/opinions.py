"""Second opinions: a fresh pair that reached the threshold, and that could still enter the
front, trains once more on the next seed (select only) before it may; its record becomes the
worse of the two runs (marked `opinions`), so that one lucky seed does not make a front
member. Both runs stay in the cache.

With `rounds`, a fresh pair that another of the generation's fresh pairs dominates waits for
that pair's second opinion and needs none if it holds: it could not enter the front anyway.
On the main job with polish, about half of the second opinions were for pairs that a pair of
the same generation dominated (README "What the main job does, measured"). Each round trains
the candidates no one still in question dominates, so it ends: every round judges one at least.
A tie with a front member needs none under `--ties one` (the member stays); a tie between
fresh pairs does.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from evo.pair import Pair
from evo.records import Record, reached
from evo.search.config import RunConfig
from evo.search.individuals import boxed
from evo.search.scoring import cost, objectives, run_key
from evo.settings import Job, RunSettings

Train = Callable[[list[Job]], list[Record]]


def opinion_settings(settings: RunSettings, config: RunConfig) -> RunSettings:
    """The next seed; with `opinion_to_cap`, the hold to the step cap (the window off), so that a
    crossing that decays after its window keeps the pair out of the front."""
    return settings.with_seed(settings.seed + 1, hold_window=settings.hold_window and not config.opinion_to_cap)


def fitness(record: Record, config: RunConfig) -> Any:
    values = objectives(record, config.speed_metric, config.rank_misses, config.data_objective)
    if config.data_objective:   # its ladder is walked after: dominated even at the ladder's lowest fraction?
        values = (*values[:2], math.log10(min(config.ladder())))
    return boxed("pair", None, values).fitness


def beaten(mine: Any, others: list[Any], ties: bool) -> bool:
    return any(other.dominates(mine) or (ties and other == mine) for other in others)


def second_opinions(fresh: dict[str, Pair], cache: dict[str, Record], front: list[Any], config: RunConfig,
                    settings: RunSettings, train: Train, generation: int, say: Callable[[str], None]) -> None:
    """Judge the fresh pairs (cache key -> pair) that reached and that no member of `front`
    dominates (nor ties, under `--ties one`: it cannot enter), in rounds under
    `config.opinion_rounds`, else all at once; `train` trains jobs in parallel."""
    second = opinion_settings(settings, config)
    ties = config.ties == "one"
    # not with the data objective: its third value is read before the walk, at the ladder's
    # lowest fraction, so a pair that dominates another there need not after the walks
    rounds = config.opinion_rounds and not config.data_objective
    members = [ind.fitness for ind in front]
    open_ = {key: pair for key, pair in fresh.items()
             if reached(cache[key]) and not beaten(fitness(cache[key], config), members, ties)}
    judged: set[str] = set()
    while open_:
        standing = {key: fitness(cache[key], config) for key in open_}
        if rounds:   # those no other pair still in question dominates
            todo = {key: pair for key, pair in open_.items() if not beaten(standing[key], list(standing.values()), False)}
        else:
            todo = dict(open_)
        say(f"second opinions: {len(todo)} pairs on seed {second.seed}")
        keys = {key: run_key(pair, second) for key, pair in todo.items()}
        needed = {key: pair for key, pair in todo.items() if keys[key] not in cache}
        for key, record in zip(needed, train([Job(pair, second) for pair in needed.values()])):
            cache[keys[key]] = {**record, "generation": generation}
        for key in todo:
            first, other = cache[key], cache[keys[key]]
            worse = other if cost(other, config.speed_metric) > cost(first, config.speed_metric) else first
            cache[key] = {**worse, "generation": generation,
                          "opinions": {"seeds": [first["seed"], other["seed"]], "taken": worse["seed"]}}
        judged |= set(todo)
        # dominated, not tied: of two fresh pairs that tie, the front keeps whichever the
        # generation lists first, so each needs its own opinion
        held = [fitness(cache[key], config) for key in judged]
        open_ = {key: pair for key, pair in open_.items() if key not in judged and not beaten(
            fitness(cache[key], config), held, False)}
