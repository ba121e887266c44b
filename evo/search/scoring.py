"""A pair's two objectives from its record, and the cache key that identifies a run."""
from __future__ import annotations

import json
import math
from typing import Any, Callable

import genome
from evo.pair import Pair
from evo.records import credited_rank, credited_select, reached
from evo.search.rungs import priced_caps
from evo.settings import RunSettings
from evo.tasks import interacts

DIVERGED_SHORTFALL = 1.1  # a diverged run scores a tenth of a decade worse than 0% select
SECONDS_CAP = 600.0       # the cap of the seconds metric, which has no run cap of its own
WORST = (99.0, 99.0)      # the objectives of a failed run, and of a gene never scored
MISS_RANKS = ("size", "shortfall", "progress", "stages")
RANKED = ("progress", "stages")  # the miss ranks that read the rank of the right answer


def worst(data: bool = False) -> tuple[float, ...]:
    """WORST, with the data objective's third value when it is on."""
    return WORST + ((WORST[0],) if data else ())


def cap(max_flops: float, budget: int, metric: str) -> float:
    """What a run that misses the threshold costs before its shortfall penalty: the run
    cap shared by all pairs (not the pair's own, or a tiny network that never generalizes
    would look cheap)."""
    return {"flops": max_flops, "steps": budget, "seconds": SECONDS_CAP}[metric]


def cost(record: dict[str, Any], metric: str, progress: bool = False, stages: bool = False) -> float:
    """Generalization cost: the metric at the threshold; a run that missed it costs the
    shared cap times 10**shortfall, shortfall = how far its best select accuracy (its last,
    for a crossing that did not hold: evo.records.credited_select) fell short, as a fraction
    of the threshold, so that selection has a gradient before anything groks. With
    `progress`, the shortfall is twice the best rank of the right answer instead (its last,
    for a lost crossing; evo.records.credited_rank: 1 at chance, 0 when the right answer
    always comes first), which moves before accuracy does. With `stages`, a curriculum's
    miss is credited with its earlier stages (shortfall). A reached threshold always beats
    a miss."""
    if record.get("failed"):
        return math.inf
    if reached(record):
        return float({"flops": record["flops_to_threshold"], "steps": record["steps_to_threshold"],
                      "seconds": record["seconds_to_threshold"]}[metric])
    budget, max_flops, own_cap = priced_caps(record)  # a lower rung's miss: the top rung's caps
    # multi-task, summed cost: a miss is priced at every task's cap, so a reached pair still beats it
    tasks = record.get("task_count", 1) if record.get("task_cost") == "sum" else 1
    return cap(max_flops or own_cap, budget, metric) * tasks * 10 ** shortfall(record, progress, stages)


def shortfall(record: dict[str, Any], progress: bool = False, stages: bool = False) -> float:
    """How far a miss fell short, 0 (at the threshold) to DIVERGED_SHORTFALL: its credited
    select accuracy's gap to the threshold as a fraction of it, or with `progress` twice its
    credited rank of the right answer (1 at chance). With `stages` (`--rank-misses stages`),
    a curriculum is read as a ladder of its earlier stages whose answer is more than a sum
    f(x) + g(y) (credited_stages), then its last: with h the height climbed (1 for each rung
    crossed, then 1 - the shortfall of the first rung not crossed, read as a run's), the
    shortfall is 1 / (1 + h), or its own if that is less (a lone run's is its own). So a
    pair that learned x*y^2 on the way to x^3+x*y^2+y ranks above the misses at chance
    before its last stage moves, trying a next rung (x*y^2+y) costs it nothing until that
    rung moves, and a rung almost crossed reads as a rung crossed (no premium for stopping
    short of the threshold). The mean over all stages, the rule before, ranked x*y^2 ->
    x*y^2+y (at chance) -> target at 2/3, below x*y^2 -> target at 1/2: a search drew the
    second rung in 142 runs and kept none (README "Harder problems, measured")."""
    rank = credited_rank(record) if progress else None
    if record.get("diverged"):
        return DIVERGED_SHORTFALL
    if rank is not None:
        own = min(DIVERGED_SHORTFALL, 2 * rank)
    else:
        own = max(0.0, record["threshold"] - credited_select(record)) / record["threshold"]
    if not stages:
        return own
    credited = credited_stages(record)
    if not credited:
        return own
    climbed = 0.0
    for stage in credited:
        if stage.get("steps_to_threshold") is not None:  # a stage stops at its crossing
            climbed += 1
            continue
        climbed += max(0.0, 1 - shortfall({**stage, "threshold": record["threshold"]}, progress))
        break
    else:   # every credited stage crossed: the last stage is the rung being climbed
        climbed += max(0.0, 1 - own)
    return min(own, 1 / (1 + climbed))


def credited_stages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A curriculum's earlier stages that `--rank-misses stages` credits: those whose answer
    is more than a sum f(x) + g(y) (evo.tasks.interacts); none for a lone run. Each stage
    carries its curve and cadence, so the record readers (credited_select, credited_rank)
    read it as they read a run. Each operation counts once, by its furthest stage (a crossing,
    else the best select): counted at every repeat, x*y^2 -> x*y^2 -> target lowered its own
    shortfall from 1/2 to 1/3, and 132 of a search's 140 curricula that crossed x*y^2 doubled
    it rather than go on to x*y^2+y (README "Harder problems, measured")."""
    furthest: dict[str, dict[str, Any]] = {}
    for stage in (record.get("curriculum") or {}).get("stages", [])[:-1]:
        if interacts(stage["op"], record["task"]["p"]):
            kept = furthest.get(stage["op"])
            if kept is None or (stage.get("steps_to_threshold") is not None, credited_select(stage)) > \
                    (kept.get("steps_to_threshold") is not None, credited_select(kept)):
                furthest[stage["op"]] = stage
    return list(furthest.values())


def polish_select(record: dict[str, Any], misses: str) -> float:
    """The select accuracy `--polish-floor` reads: the credited one, or under `stages` the best
    of it and a credited earlier stage's (a curriculum whose first stage crossed is a miss
    worth polishing)."""
    stages = credited_stages(record) if misses == "stages" else []
    return max([credited_select(record), *map(credited_select, stages)])


def ranker(metric: str, misses: str) -> Callable[[dict[str, Any]], float]:
    """The rank rungs promote by: a record's cost under the run's miss rank."""
    return lambda record: cost(record, metric, progress=misses in RANKED, stages=misses == "stages")


def objectives(record: dict[str, Any], metric: str, misses: str = "size",
               data: bool = False) -> tuple[float, ...]:
    """(log10 cost, log10 params): on log scales the crowding distance weighs a decade of
    cost like a decade of size. With `data`, a third: log10 of the smallest training
    fraction at which the pair reached the threshold (`lowest_frac`, set by
    evo.search.ladder; 0, a fraction of 1, for a pair that never reached), or the
    `data_value` the walk set with its first miss credited (evo.search.ladder.credited).

    `misses="shortfall"` gives a run that missed the threshold the worst size, so that
    misses are ranked by their shortfall alone: a near-chance network that is merely small
    has no generalization speed to trade against its size, and under `size` a search where
    nothing reaches drifts to the smallest networks (x^3+x*y^2+y: README "Harder problems, measured").
    `misses="progress"` does the same with the shortfall read from the rank of the right
    answer (cost's `progress`); `misses="stages"` as `progress`, a curriculum's miss credited
    with its earlier stages (shortfall's `stages`)."""
    if record.get("failed"):
        return worst(data)  # never dominating anything, never a partner of choice
    if misses not in MISS_RANKS:
        raise ValueError(f"misses: {misses!r} is not one of {', '.join(MISS_RANKS)}")
    c = cost(record, metric, progress=misses in RANKED, stages=misses == "stages")
    size = WORST[1] if misses != "size" and not reached(record) else math.log10(max(1, record["params"]))
    two = (math.log10(c) if math.isfinite(c) and c > 0 else WORST[0], size)
    if not data:
        return two
    if not reached(record) or "lowest_frac" not in record:
        return (*two, 0.0)
    # with --data-credit progress, the walk also credits its first miss (evo.search.ladder.credited)
    return (*two, record.get("data_value", math.log10(record["lowest_frac"])))


def pair_key(pair: Pair) -> str:
    """Canonical JSON of what the pair does: unused fields left out (a transformer combines
    the operands itself, so the encoder's combiner is unused too)."""
    encoder = genome.active(pair.encoder)
    if pair.brain.family == "transformer":
        encoder.pop("combiner", None)
        encoder.pop("combine_k", None)
    return json.dumps({"encoder": encoder, "brain": genome.active(pair.brain)}, sort_keys=True)


def gene_key(gene: Any) -> str:
    return genome.key(gene)


def run_key(pair: Pair, settings: RunSettings, **extra: Any) -> str:
    """Cache key: the pair's behaviour plus every setting of the run that changes its
    figures (`extra`: {"holdout": True} for a re-check)."""
    return json.dumps({"pair": json.loads(pair_key(pair)), **settings.to_dict(), **extra}, sort_keys=True)
