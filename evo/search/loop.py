"""The co-search: DEAP alternates spectacles (encoders) and brains.

Generation 0 draws both populations (or seeds them from named recipes) and scores each
encoder with `partners` brains. Then, with the `alternate` schedule, even generations vary
encoders and score every child with the current top brains; odd generations do the same
for brains against the top encoders. `joint` varies whole pairs. Survival is NSGA-II on
(log10 cost, log10 size), with `--objectives cost,size,data` also log10 of the smallest
training fraction a pair reaches from (evo.search.ladder); every scored pair enters an archive (ParetoFront) and a cache, so
no pair is trained twice. The loop emits events; it never renders anything.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from deap import tools

import genome
from brains.carry import Carry
from brains.gene import BrainGene
from encoders.gene import SYMMETRIC_COMBINERS, EncoderGene
from evo.search import population as popmod
from evo.search import giveup, ladder, opinions, rungs
from evo.search import variation
from evo.pair import Pair
from evo.recipes import get_recipe
from evo.records import Record, reached
from evo.search.archive import behaviour, keep_generalizers, new_archive
from evo.search.config import MUON_LR_FIELDS, NEW_RULE_FIELDS
from evo.search.individuals import GeneBox, boxed
from evo.search.scoring import RANKED, gene_key, pair_key, polish_select, ranker, run_key
from evo.search.state import SearchState
from evo.settings import Job, RunSettings

Emit = Callable[..., None]
CURRICULUM_FIELDS = frozenset({"curriculum", "stack_hidden", "stack_freeze", "stack_read"})
# A run without the router family draws and mutates as it did before the family existed.
ROUTER_HELD = frozenset({"family=router"} | {name for name in genome.specs(BrainGene) if name.startswith("router_")})


class Search:
    def __init__(self, state: SearchState, scorer: Any, emit: Emit):
        self.state, self.scorer, self.emit = state, scorer, emit
        self.config = state.config
        self.settings = state.settings
        self.canon = lambda gene: gene.canonical(self.config.p)  # encoders: one name per code
        valid = popmod.encoder_valid(self.config.p)
        symmetric = self.config.symmetric_offered()
        # folding can narrow a code below its top-k; symmetric combiners only where they can answer
        self.encoder_ok = lambda gene: valid(self.canon(gene)) and (symmetric or gene.combiner not in SYMMETRIC_COMBINERS)
        seeds = [get_recipe(n).pair.brain for n in self.config.seed_with]
        families = set(self.config.brain_families) | {brain.family for brain in seeds}
        self.brain_ok = lambda gene: gene.family in families
        # the curriculum genes vary only in runs given a pool of earlier operations (of n: indices
        # under n, one per operation), the newer update rules only under --update-rules all (a seed
        # recipe keeps its own) and the router family only where the run names it (variation.offered)
        pool = len(self.config.curriculum_pool)
        self.brain_frozen = (frozenset({f"curriculum<{pool}"}) if pool else CURRICULUM_FIELDS) | \
            (NEW_RULE_FIELDS if self.config.update_rules == "classic" else frozenset()) | \
            (MUON_LR_FIELDS if self.config.update_rules == "classic" or self.config.muon_lr == "shared"
             else frozenset()) | \
            (frozenset() if "router" in families else ROUTER_HELD)
        self.data = self.config.data_objective
        self.n = len(self.config.objectives)

    # -- scoring -------------------------------------------------------------------------
    def score(self, pairs: list[Pair], bars: bool = True) -> list[GeneBox]:
        """Train the pairs not in the cache (in parallel), and return all as scored PairInds.
        `bars`: under --give-up, with the front's bars; off when the front's own members
        train again (their records from another device are not this device's cache)."""
        state, settings = self.state, self.settings
        keys = [run_key(pair, settings) for pair in pairs]
        todo: dict[str, Pair] = {}
        for key, pair in zip(keys, pairs):
            if key not in state.cache and key not in todo:
                todo[key] = pair
        if self.config.rungs > 1:
            self.climb(todo, cached=len(pairs) - len(todo))
        else:   # under --give-up, with the front's bars (evo.search.giveup)
            barred = giveup.barred(settings, self.config, state.archive, state.record) if bars else settings
            self.train(todo, barred, cached=len(pairs) - len(todo))
        if self.config.second_opinion:   # before the front: evo.search.opinions
            opinions.second_opinions(todo, state.cache, list(state.archive), self.config, settings, self.scorer.map,
                                     state.generation + 1, lambda text: self.emit("message", text=text))
        if self.data:   # every pair, not only the new ones: a walk cut short by a kill goes on
            self.walk({key: pair for key, pair in zip(keys, pairs)})
        scored = []
        for key, pair in zip(keys, pairs):
            values = state.best.add(pair, state.cache[key])
            scored.append(boxed("pair", pair, values, behaviour(state.cache[key])))
        return scored

    def train(self, runs: dict[str, Pair], settings: RunSettings, cached: int = 0,
              starts: dict[str, Carry] | None = None, keep: bool = False) -> dict[str, Carry]:
        """Train the runs (cache key -> pair) not in the cache yet, in parallel, and cache
        their records, marked with the generation (for the report's fronts). With `keep`,
        the states the runs leave to go on from (by key; brains.carry), kept out of the
        cache; `starts`: states to go on from, by key."""
        todo = {key: pair for key, pair in runs.items() if key not in self.state.cache}
        self.emit("scoring", total=len(todo), cached=cached + len(runs) - len(todo))
        starts = starts or {}

        def arrived(i: int, record: dict[str, Any]) -> None:
            self.emit("evaluated", index=i, total=len(todo), record=record)
        records = self.scorer.map([Job(pair, settings, start=starts.get(key), keep=keep)
                                   for key, pair in todo.items()], arrived)
        carries = {}
        for key, record in zip(todo, records):
            carry = record.pop("carry", None)
            if carry is not None:
                carries[key] = carry
            self.state.cache[key] = {**record, "generation": self.state.generation + 1}
        return carries

    def climb(self, todo: dict[str, Pair], cached: int = 0) -> None:
        """The rungs of evo.search.rungs: every new pair trains on the lowest budget; the
        best 1/eta by the select-only rank go up a rung, those that reached the threshold
        straight to the top; a pair that stops below the top is scored by its highest
        rung's record (a verdict cached under its top-rung key). A promoted pair goes on from
        the state its last rung left (brains.carry), where it has one (not in a batched run;
        not a curriculum or multi-task run; none after a resume): the same figures either way."""
        state, config = self.state, self.config
        ladder = config.rung_budgets()
        rank = ranker(config.speed_metric, config.rank_misses)
        going, straight = list(todo), []
        carried: dict[str, Carry] = {}   # by top-rung key: the state its last rung left
        for at, budget in enumerate(ladder):
            here = rungs.settings_at(self.settings, budget)
            top = at == len(ladder) - 1
            if top:
                going += straight
            self.emit("message", text=f"rung {at + 1} of {len(ladder)}: {len(going)} pairs, {budget} steps")
            runs = {key: run_key(todo[key], here) for key in going}
            left = self.train({runs[key]: todo[key] for key in going}, here, cached if at == 0 else 0,
                              starts={runs[key]: carried[key] for key in going if key in carried},
                              keep=not top and not self.settings.batched)
            carried.update({key: left[runs[key]] for key in going if runs[key] in left})
            if top:
                return
            records = [state.cache[runs[key]] for key in going]
            up, hits = rungs.promoted(records, config.eta, rank)
            for i, key in enumerate(going):
                if i not in up and i not in hits:
                    state.cache[key] = {**rungs.verdict(records[i], at, ladder, self.settings),
                                        "generation": state.generation + 1}
            straight += [going[i] for i in hits]
            going = [going[i] for i in up]
            carried = {key: carried[key] for key in going + straight if key in carried}   # the rest stop here

    def walk(self, runs: dict[str, Pair]) -> None:
        """The data objective (evo.search.ladder): each pair that reached the threshold and
        has no `lowest_frac` yet trains at each smaller fraction of the ladder in turn, all
        pairs of a fraction in parallel, until it misses; its top record then keeps the
        ladder and its lowest fraction reached."""
        state = self.state
        going = {key: pair for key, pair in runs.items()
                 if reached(state.cache[key]) and "lowest_frac" not in state.cache[key]}
        walked: dict[str, list[tuple[float, Record]]] = {key: [] for key in going}
        for frac in self.config.ladder():
            if not going:
                break
            here = ladder.settings_at(self.settings, frac)
            self.emit("message", text=f"data ladder: {len(going)} pairs at training fraction {frac:g}")
            keys = {key: run_key(pair, here) for key, pair in going.items()}
            self.train({keys[key]: pair for key, pair in going.items()}, here)
            for key in list(going):
                record = state.cache[keys[key]]
                walked[key].append((frac, record))
                if not reached(record):
                    del going[key]
        for key, steps in walked.items():
            state.cache[key] = ladder.annotated(state.cache[key], self.settings.task.train_frac, steps,
                                                self.config.data_credit, self.config.rank_misses in RANKED)

    def retrain_stale(self) -> None:
        """After a resume on another device, the archive's and the joint population's pairs
        train again here (those this device has records of come from the cache), so that
        survival, the front and its re-checks read records of this device (float results
        differ between devices; records made on the other stay in the cache, and in each
        gene's best so far)."""
        state = self.state
        if not state.stale:
            return
        self.emit("message", text=f"resumed on {self.settings.device}: training {len(state.stale)} pairs again")
        fresh = {pair_key(ind.gene): ind for ind in self.score(state.stale, bars=False)}
        archive = new_archive(self.config.ties)
        archive.update([fresh[pair_key(ind.gene)] for ind in state.archive])
        keep_generalizers(archive, lambda ind: reached(state.record(ind.gene)))
        state.archive = archive
        state.pairs = [fresh[pair_key(ind.gene)] for ind in state.pairs]
        state.stale = []
        self.refresh()

    def refresh(self) -> None:
        for pop in (self.state.encoders, self.state.brains):
            popmod.refresh(pop, self.state.best)

    # -- generations ---------------------------------------------------------------------
    def draw(self, kind: str) -> EncoderGene | BrainGene:
        """One random gene of a side, as the first generation draws it (the run's rng;
        an encoder in its canonical form)."""
        if kind == "encoder":
            return self.canon(variation.random_gene(EncoderGene, self.state.rng, self.encoder_ok))
        return variation.random_gene(BrainGene, self.state.rng, self.brain_ok, frozen=self.brain_frozen)

    def initial(self) -> list[GeneBox]:
        config = self.config
        encoders: list[EncoderGene] = []
        brains: list[BrainGene] = []
        for name in config.seed_with:
            recipe = get_recipe(name).pair
            encoders.append(self.canon(recipe.encoder))
            brains.append(recipe.brain)
        while len(encoders) < config.population:
            encoders.append(self.draw("encoder"))
        while len(brains) < config.population:
            brains.append(self.draw("brain"))
        self.state.encoders = [boxed("encoder", g, n=self.n) for g in encoders[:config.population]]
        self.state.brains = [boxed("brain", g, n=self.n) for g in brains[:config.population]]
        n, r = config.population, config.partners
        if config.schedule == "joint":
            pairs = [Pair(e.gene, b.gene) for e, b in zip(self.state.encoders, self.state.brains)]
        else:
            pairs = [Pair(self.state.encoders[i].gene, self.state.brains[(i + j) % n].gene)
                     for i in range(n) for j in range(r)]
        scored = self.score(pairs)
        if config.schedule == "joint":
            self.state.pairs = scored
        self.refresh()
        return scored

    def vary_side(self, kind: str) -> list[GeneBox]:
        """Children of one side, each scored with the top `partners` of the other side."""
        config, state = self.config, self.state
        mine = state.encoders if kind == "encoder" else state.brains
        other = state.brains if kind == "encoder" else state.encoders
        ok = self.encoder_ok if kind == "encoder" else self.brain_ok
        bred = config.offspring - config.immigrants
        if kind == "encoder":
            children = popmod.offspring(kind, mine, bred, state.rng, ok, canon=self.canon, n_objectives=self.n)
        else:
            children = popmod.offspring(kind, mine, bred, state.rng, ok, frozen=self.brain_frozen,
                                        n_objectives=self.n)
        if config.immigrants:
            children += popmod.immigrants(kind, mine + children, config.immigrants, lambda: self.draw(kind),
                                          n_objectives=self.n)
        partners = popmod.best(other, config.partners)
        pairs = [Pair(c.gene, p.gene) if kind == "encoder" else Pair(p.gene, c.gene)
                 for c in children for p in partners]
        polished = self.polished(kind)
        seen = {gene_key(ind.gene) for ind in mine + children}
        for pair in polished:
            gene = pair.encoder if kind == "encoder" else pair.brain
            if gene_key(gene) not in seen:
                seen.add(gene_key(gene))
                children.append(boxed(kind, gene, n=self.n))
        scored = self.score(pairs + polished)
        self.refresh()
        popmod.refresh(children, state.best)
        survivors = popmod.best(mine + children, config.population)
        if kind == "encoder":
            state.encoders = survivors
        else:
            state.brains = survivors
        return scored

    def vary_pairs(self) -> list[GeneBox]:
        """Joint schedule: each child pair mutates its encoder, its brain, or both; with
        --immigrants, K children are fresh pairs (an encoder drawn, then a brain)."""
        config, state, rng = self.config, self.state, self.state.rng
        seen = {pair_key(ind.gene) for ind in state.pairs}
        children: list[Pair] = []

        def add(child: Pair) -> None:
            if pair_key(child) not in seen:
                seen.add(pair_key(child))
                children.append(child)
        bred = config.offspring - config.immigrants
        for _ in range(bred * variation.TRIES):
            if len(children) == bred:
                break
            parent = rng.choice(state.pairs).gene
            side = rng.choice(("encoder", "brain", "both"))
            encoder = self.canon(variation.mutate(parent.encoder, rng, self.encoder_ok)) \
                if side != "brain" else parent.encoder
            brain = variation.mutate(parent.brain, rng, self.brain_ok, frozen=self.brain_frozen) \
                if side != "encoder" else parent.brain
            add(Pair(encoder, brain))
        for _ in range(config.immigrants * variation.TRIES):
            if len(children) == config.offspring:
                break
            add(Pair(self.draw("encoder"), self.draw("brain")))
        for pair in self.polished("pair"):
            add(pair)
        scored = self.score(children)
        state.pairs = popmod.best(state.pairs + scored, config.population)
        return scored

    def polished(self, kind: str) -> list[Pair]:
        """--polish: the pairs one step along one field (evo.search.variation.neighbours) from
        the `polish` fastest front members that reached the threshold, on the side `kind`
        varies (both for whole pairs), each with the member's own partner; with
        `polish_misses`, the closest misses fill in for members not reached (a reached
        pair's cost always beats a miss's, so the order puts them first), those whose credited
        select accuracy is at least `polish_floor` (near chance the closest miss is noise). No randomness and
        no new state: a resumed generation asks for the same pairs, and the cache answers for
        those a front member that has not changed already had."""
        if not self.config.polish:
            return []
        config, record = self.config, self.state.record
        members = [ind for ind in self.state.archive if reached(record(ind.gene)) or
                   config.polish_misses and polish_select(record(ind.gene), config.rank_misses) >= config.polish_floor]
        fastest = sorted(members, key=lambda ind: (ind.fitness.values, pair_key(ind.gene)))[:self.config.polish]
        out: list[Pair] = []
        for ind in fastest:
            pair = ind.gene
            if kind != "brain":
                out += [Pair(self.canon(e), pair.brain) for e in variation.neighbours(pair.encoder, self.encoder_ok)]
            if kind != "encoder":
                out += [Pair(pair.encoder, b) for b in variation.neighbours(pair.brain, self.brain_ok,
                                                                         self.brain_frozen)]
        return out

    def phase(self, generation: int) -> str:
        if generation == 0:
            return "initial"
        if self.config.schedule == "joint":
            return "pairs"
        return "encoders" if generation % 2 == 0 else "brains"

    def generation(self) -> None:
        """Run the next generation and record it; the caller checkpoints afterwards."""
        state = self.state
        g = state.generation + 1
        phase = self.phase(g)
        self.emit("generation_start", generation=g, phase=phase)
        before = {pair_key(ind.gene) for ind in state.archive}
        if phase == "initial":
            scored = self.initial()
        elif phase == "pairs":
            scored = self.vary_pairs()
        else:
            scored = self.vary_side("encoder" if phase == "encoders" else "brain")
        state.archive.update(scored)
        keep_generalizers(state.archive, lambda ind: reached(state.cache[run_key(ind.gene, self.settings)]))
        for ind in state.archive:
            if pair_key(ind.gene) not in before:
                self.emit("front_member", generation=g, pair=ind.gene, values=ind.fitness.values)
        state.generation = g
        self.record(g, phase, len(scored))
        self.emit("generation_end", generation=g, phase=phase, front=self.front_rows(),
                  stats=dict(state.logbook[-1]))

    def front_rows(self) -> list[dict[str, Any]]:
        return [{"pair": ind.gene, "values": ind.fitness.values,
                 "record": self.state.cache[run_key(ind.gene, self.settings)]} for ind in self.state.archive]

    def record(self, g: int, phase: str, n_pairs: int) -> None:
        state, config = self.state, self.config
        pop = state.pairs if config.schedule == "joint" else state.encoders + state.brains
        stats = tools.Statistics(key=lambda ind: ind.fitness.values)
        stats.register("min", lambda v: [float(x) for x in np.min(v, axis=0)])
        stats.register("median", lambda v: [float(x) for x in np.median(v, axis=0)])
        ref = popmod.reference_point(self.settings, config.speed_metric, self.data)
        state.logbook.record(gen=g, phase=phase, pairs=n_pairs, trained=len(state.cache),
                             front=len(state.archive), hypervolume=popmod.hypervolume(state.archive, ref),
                             families=popmod.family_counts(pop), **stats.compile(pop))

