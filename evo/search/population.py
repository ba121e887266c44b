"""Populations as DEAP individuals whose fitness is that of their best scored pair."""
from __future__ import annotations

import math
import random
from typing import Any, Callable, Iterable

import moocore
import numpy as np
from deap import tools

from encoders import feature_dim
from encoders.gene import EncoderGene
from evo.search import variation
from evo.search.individuals import GeneBox, boxed
from evo.pair import Pair
from evo.settings import RunSettings
from evo.search.scoring import DIVERGED_SHORTFALL, cap, gene_key, objectives, pair_key, worst
from genome import GeneError


def encoder_valid(p: int) -> Callable[[EncoderGene], bool]:
    """An encoder is kept only if it builds for this modulus with its combiner."""
    def ok(gene: EncoderGene) -> bool:
        try:
            feature_dim(gene, p)
        except GeneError:
            return False
        return True
    return ok


class BestPairs:
    """For every gene, the objectives of its best pair so far: min over its records of
    (log cost, log size, pair key), a total order, so the result never depends on the order
    records arrive in."""

    def __init__(self, metric: str, misses: str = "size", data: bool = False):
        self.metric, self.misses, self.data = metric, misses, data
        self.best: dict[str, tuple[Any, ...]] = {}

    def add(self, pair: Pair, record: dict[str, Any]) -> tuple[float, ...]:
        values = objectives(record, self.metric, self.misses, self.data)
        entry = (*values, pair_key(pair))
        for key in (gene_key(pair.encoder), gene_key(pair.brain)):
            if key not in self.best or entry < self.best[key]:
                self.best[key] = entry
        return values

    def values(self, gene: Any) -> tuple[float, ...]:
        entry = self.best.get(gene_key(gene))
        n = 3 if self.data else 2
        return worst(self.data) if entry is None else tuple(entry[:n])


def refresh(pop: Iterable[GeneBox], best: BestPairs) -> None:
    for ind in pop:
        ind.fitness.values = best.values(ind.gene)


def best(pop: list[GeneBox], k: int) -> list[GeneBox]:
    """The k best by NSGA-II (non-dominated rank, then crowding distance): survivors, and
    the partners a child is scored with. Works for any k (no tournament, no multiple of 4)."""
    return tools.selNSGA2(list(pop), k)


def offspring(kind: str, pop: list[GeneBox], n: int, rng: random.Random,
              is_valid: Callable[[Any], bool], cx_prob: float = 0.3,
              frozen: frozenset[str] = frozenset(), canon: Callable[[Any], Any] = lambda g: g,
              n_objectives: int = 2) -> list[GeneBox]:
    """n new genes, none behaving like a current member or like each other; `frozen`
    fields are left as they are (evo.search.variation); `canon` writes a gene in its
    canonical form (EncoderGene.canonical) before it is compared."""
    seen = {gene_key(ind.gene) for ind in pop}
    children: list[GeneBox] = []
    for _ in range(n * variation.TRIES):
        if len(children) == n:
            break
        a, b = (rng.sample(pop, 2) if len(pop) > 1 else (pop[0], pop[0]))
        gene = a.gene
        if rng.random() < cx_prob and a is not b:
            gene = variation.crossover(a.gene, b.gene, rng, is_valid, frozen)
        gene = canon(variation.mutate(gene, rng, is_valid, frozen=frozen))
        if gene_key(gene) not in seen:
            seen.add(gene_key(gene))
            children.append(boxed(kind, gene, n=n_objectives))
    return children


def immigrants(kind: str, pop: list[GeneBox], n: int, draw: Callable[[], Any],
               n_objectives: int = 2) -> list[GeneBox]:
    """n fresh random genes (`draw`), none behaving like a current member or each other:
    random immigrants (Grefenstette 1992). While every pair sits at chance, survival ranks
    noise and the population narrows onto whatever noise favoured; immigrants keep drawing
    from the whole space."""
    seen = {gene_key(ind.gene) for ind in pop}
    out: list[GeneBox] = []
    for _ in range(n * variation.TRIES):
        if len(out) == n:
            break
        gene = draw()
        if gene_key(gene) not in seen:
            seen.add(gene_key(gene))
            out.append(boxed(kind, gene, n=n_objectives))
    return out


def hypervolume(front: Iterable[GeneBox], ref: tuple[float, ...]) -> float:
    """Area (volume, with the data objective) dominated by the front up to `ref`, in the
    log10 objective space."""
    points = np.array([ind.fitness.values for ind in front if all(
        v < r for v, r in zip(ind.fitness.values, ref))], dtype=float)
    return float(moocore.hypervolume(points, ref=np.array(ref))) if len(points) else 0.0


def reference_point(settings: RunSettings, metric: str, data: bool = False) -> tuple[float, ...]:
    """A fixed corner (beyond the worst cost of any run, 10^8 parameters, and with the data
    objective a training fraction past 1), so that hypervolumes of different generations
    compare."""
    corner = (math.log10(cap(settings.max_flops, settings.budget, metric)) + DIVERGED_SHORTFALL + 0.1, 8.0)
    return (*corner, 0.1) if data else corner


def family_counts(population: list[GeneBox]) -> list[list[Any]]:
    """[side, family, members] of the encoder and brain families the populations hold: the
    report's picture of diversity over generations. A list, since DEAP's Logbook files a
    dict value under a chapter of its own."""
    counts: dict[tuple[str, str], int] = {}
    for ind in population:
        genes = [("encoder", ind.gene.encoder), ("brain", ind.gene.brain)] if isinstance(ind.gene, Pair) \
            else [("encoder" if isinstance(ind.gene, EncoderGene) else "brain", ind.gene)]
        for side, gene in genes:
            counts[side, gene.family] = counts.get((side, gene.family), 0) + 1
    return [[side, family, n] for (side, family), n in sorted(counts.items())]
