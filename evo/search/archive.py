"""The archive: every scored pair enters DEAP's ParetoFront of (log cost, log size), which
the run reports as its front. One definition, read by the search as it goes and by the
report when it rebuilds the front the run held after any generation."""
from __future__ import annotations

import json
from typing import Callable

from deap import tools

from evo.records import Record
from evo.search.individuals import GeneBox
from evo.search.scoring import objectives, pair_key


def behaviour(record: Record) -> str | None:
    """What a run did, step by step: its curve (every evaluation's accuracies and losses);
    None for a run with no evaluation (failed, or diverged at once), which is no one's twin."""
    curve = record.get("curve")
    return json.dumps(curve, sort_keys=True) if curve else None


def similar(a: GeneBox, b: GeneBox) -> bool:
    """Members of equal fitness that count as one (DEAP asks only when the fitnesses are
    equal): the same genes in effect (pair_key), or twins, whose runs did the same thing at
    every evaluation (genes that differ where training never looks, such as a gradient
    clip the gradients never reach). The front keeps the first of a set of twins."""
    if pair_key(a.gene) == pair_key(b.gene):
        return True
    return a.behaviour is not None and a.behaviour == b.behaviour


def twins(record: Record, records: list[Record], metric: str, misses: str, data: bool = False) -> int:
    """How many other scored pairs a front member stands for: records with its objectives
    and its curve."""
    if behaviour(record) is None:
        return 0
    mine = (objectives(record, metric, misses, data), behaviour(record))
    return sum((objectives(r, metric, misses, data), behaviour(r)) == mine
               for r in records if not r.get("failed")) - 1


def one_point(a: GeneBox, b: GeneBox) -> bool:
    """Under `--ties one`, every pair of equal fitness counts as one: a search asked for steps
    fills its front with neighbours that tie on steps and size (31 of seed 0's 45 members in
    README "What the main job does, measured"), each re-checked on three seeds."""
    return True


def new_archive(ties: str = "keep") -> tools.ParetoFront:
    return tools.ParetoFront(one_point if ties == "one" else similar)


def keep_generalizers(archive: tools.ParetoFront, reached: Callable[[GeneBox], bool]) -> None:
    """Once any pair has reached the threshold, the front holds only pairs that did: a pair
    that never generalized has no generalization speed, and a near-chance network that is
    merely small is no point of the speed/size trade-off (it would also cost a holdout
    re-check). Before then, the front is over all pairs, so that it shows the search's best
    tries. Survival still ranks misses by select accuracy and size (see evo.search.scoring)."""
    if any(reached(ind) for ind in archive):
        for i in reversed(range(len(archive))):
            if not reached(archive[i]):
                archive.remove(i)
