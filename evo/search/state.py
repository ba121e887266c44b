"""The search's state, and its JSON document stored in a checkpoint.

Populations are stored as genes only: their fitness is derived from the evaluation cache
(each gene's best pair), so the cache is the one source of every figure.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from deap import tools

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.pair import Pair
from evo.records import Record
from evo.search import population as popmod
from evo.search.archive import behaviour, new_archive
from evo.search.config import RunConfig
from evo.search.individuals import GeneBox, boxed
from evo.search.scoring import objectives, run_key
from evo.settings import RunSettings


@dataclass
class SearchState:
    config: RunConfig
    generation: int = -1                       # last completed generation; -1 = none yet
    encoders: list[GeneBox] = field(default_factory=list)
    brains: list[GeneBox] = field(default_factory=list)
    pairs: list[GeneBox] = field(default_factory=list)   # the joint schedule's population
    archive: tools.ParetoFront | None = None   # default: an empty one under the config's ties
    logbook: tools.Logbook = field(default_factory=tools.Logbook)
    cache: dict[str, Record] = field(default_factory=dict)
    finals: dict[str, Record] = field(default_factory=dict)  # holdout re-checks of the front
    rng: random.Random = field(default_factory=random.Random)
    best: popmod.BestPairs | None = None
    settings: RunSettings | None = None    # of every training run; default: the config's, on this machine
    # Pairs of the populations and archive whose records were made on another device (a
    # resume with another --device): the search trains them again before it goes on.
    stale: list[Pair] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.archive is None:
            self.archive = new_archive(self.config.ties)
        if self.best is None:
            self.best = popmod.BestPairs(self.config.speed_metric, self.config.rank_misses,
                                         self.config.data_objective)
        if self.settings is None:
            self.settings = self.config.run_settings()

    def record(self, pair: Pair) -> Record:
        return self.cache[run_key(pair, self.settings)]


def random_states() -> dict[str, Any]:
    """numpy's and torch's global generators: the loop does not draw from them (it uses its
    own seeded `random.Random`, and every training run seeds itself), but they are saved and
    restored so that nothing outside the loop can make a resumed run differ."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"numpy": [kind, keys.tolist(), pos, has_gauss, gauss],
            "torch": torch.get_rng_state().tolist()}


def set_random_states(states: dict[str, Any]) -> None:
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(torch.tensor(states["torch"], dtype=torch.uint8))


def new_state(config: RunConfig) -> SearchState:
    """A fresh run; numpy's and torch's global generators are seeded from the run's seed
    too, so that the states a checkpoint saves depend on the seed alone, not on the process
    (a run killed and resumed in new processes saves what the uninterrupted run saves)."""
    np.random.seed(config.seed % 2 ** 32)
    torch.manual_seed(config.seed)
    return SearchState(config=config, rng=random.Random(config.seed))


def to_json(state: SearchState) -> dict[str, Any]:
    version, internal, gauss = state.rng.getstate()
    return {
        "config": state.config.to_dict(),
        "device": state.settings.device,
        "generation": state.generation,
        "encoders": [ind.gene.to_dict() for ind in state.encoders],
        "brains": [ind.gene.to_dict() for ind in state.brains],
        "pairs": [ind.gene.to_dict() for ind in state.pairs],
        "archive": [ind.gene.to_dict() for ind in state.archive],
        "logbook": [dict(entry) for entry in state.logbook],
        "cache": state.cache,
        "finals": state.finals,
        "best": state.best.best,
        "random": {"python": [version, list(internal), gauss], **random_states()},
    }


def stored_device(doc: dict[str, Any]) -> str:
    """The device a checkpoint's records were made on: saved since the restructuring; for an
    older checkpoint, read from its records (each names its machine)."""
    if "device" in doc:
        return doc["device"]
    for record in doc["cache"].values():
        if "machine" in record:
            return torch.device(record["machine"]["device"]).type
    return "cpu"


def from_json(doc: dict[str, Any], config: RunConfig | None = None, resolve: bool = True) -> SearchState:
    """Rebuild a state; `config` replaces the stored one (a resume may change a few
    settings, see evo.search.config.check_resume). With `resolve`, the runs to come are on
    this machine's device, and pairs scored on another are marked stale; without it (a
    report), the state reads the run as it was made, whatever this machine has."""
    config = config or RunConfig.stored(doc["config"])
    made_on = stored_device(doc)
    state = SearchState(config=config, generation=doc["generation"], cache=doc["cache"],
                        finals=doc["finals"], settings=config.run_settings(None if resolve else made_on))
    # Saved, not rebuilt from the cache: pairs that behave alike share one record, which
    # names only the first of their genes.
    state.best.best = {key: tuple(entry) for key, entry in doc["best"].items()}
    n = len(config.objectives)
    state.encoders = [boxed("encoder", EncoderGene.from_dict(g), n=n) for g in doc["encoders"]]
    state.brains = [boxed("brain", BrainGene.from_dict(g), n=n) for g in doc["brains"]]
    popmod.refresh(state.encoders + state.brains, state.best)
    before = dataclasses.replace(state.settings, device=made_on)
    moved = made_on != state.settings.device

    def scored(data: dict[str, Any]) -> GeneBox:
        pair = Pair.from_dict(data)
        key = run_key(pair, state.settings)
        if key not in state.cache:  # made on another device: scored by that record until retrained
            key = run_key(pair, before)
        if moved and pair not in state.stale:  # all of them: the front is rebuilt on this device's records
            state.stale.append(pair)
        record = state.cache[key]
        return boxed("pair", pair, objectives(record, config.speed_metric, config.rank_misses,
                                              config.data_objective), behaviour(record))
    state.pairs = [scored(p) for p in doc["pairs"]]
    # HallOfFame keeps items in the reverse order of its sorted keys; set both as saved,
    # since re-inserting would flip the order of members with equal fitness.
    state.archive.items = [scored(p) for p in doc["archive"]]
    state.archive.keys = [ind.fitness for ind in reversed(state.archive.items)]
    state.logbook = tools.Logbook()
    for entry in doc["logbook"]:
        state.logbook.record(**entry)
    version, internal, gauss = doc["random"]["python"]
    state.rng = random.Random()
    state.rng.setstate((version, tuple(internal), gauss))
    set_random_states(doc["random"])
    return state
