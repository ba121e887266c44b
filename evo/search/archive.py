"""The archive: every scored pair enters DEAP's ParetoFront of (log cost, log size), which
the run reports as its front. One definition, read by the search as it goes and by the
report when it rebuilds the front the run held after any generation."""
from __future__ import annotations

from typing import Callable

from deap import tools

from evo.search.individuals import GeneBox
from evo.search.scoring import pair_key


def similar(a: GeneBox, b: GeneBox) -> bool:
    """Members of equal fitness that count as one: the same behaviour (pair_key)."""
    return pair_key(a.gene) == pair_key(b.gene)


def new_archive() -> tools.ParetoFront:
    return tools.ParetoFront(similar)


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
