"""--give-up K: stop a run once it can only enter the front far behind a member.

Survival and the front trade two objectives, cost (steps or FLOPs to the threshold) and
size. A pair of P weights that has not crossed by the time its crossing would cost c is
dominated, wherever it crosses later, by any front member of at most P weights that
crossed at cost c or less. So the run can stop there: K = 1 gives up exactly when the pair
can no longer enter the front (a later crossing would leave it a dominated reacher, not a
member); K > 1 lets it run to K times that cost, so that survival still sees the pairs that
cross a little behind the front. The bar is the front at the start of the generation,
checkpointed with it, so a resumed generation trains with the same bars. A pair that
crosses before its bar trains exactly as it would without one (its record is the same), and
a beaten run is a miss at its shortfall when it stopped (`stopped: "beaten"`, its bar under
`give_up`), priced at the run's caps like every miss. A run that crosses at or past its bar
(past it under --ties keep, where a tie enters beside its member) cannot enter the front
either, held or not, so its hold window would be spent on a decided run: it ends at the
crossing as "behind", reached and unheld (--hold-behind holds it, as runs made before did),
and survival reads it as a reacher (README "Giving up on beaten runs": how often a held
crossing is lost). Curricula are not barred (their stages train under the curriculum's own
caps), and the bar is off with rungs, multi-task fitness, the data objective and the seconds
metric (RunConfig.give_up_clash: it reads one run's steps or FLOPs on the two-objective
front); asked for by name with one of them, it is an error (evo.runner.execute).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable

from evo.records import Record, reached
from evo.search.config import RunConfig
from evo.search.scoring import cost
from evo.settings import RunSettings


def staircase(members: Iterable[Any], record: Callable[[Any], Record], metric: str,
              k: float) -> tuple[tuple[int, float], ...]:
    """(params, K x cost) of each front member that reached the threshold, smallest first."""
    steps = []
    for ind in members:
        mine = record(ind.gene)
        if reached(mine):
            steps.append((int(mine["params"]), k * cost(mine, metric)))
    return tuple(sorted(steps))


def barred(settings: RunSettings, config: RunConfig, members: Iterable[Any],
           record: Callable[[Any], Record]) -> RunSettings:
    """The settings new pairs train under: with the front's bars when K > 0 and no option
    turns them off (RunConfig.give_up_clash), else unchanged."""
    if not config.give_up or config.give_up_clash():
        return settings
    metric = config.speed_metric
    behind = "" if config.hold_behind else "past" if config.ties == "keep" else "at"
    return dataclasses.replace(settings, give_up=staircase(members, record, metric, config.give_up), give_up_in=metric,
                               behind=behind)
