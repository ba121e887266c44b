"""SearchState <-> the JSON document stored in a checkpoint.

Populations are stored as genes only: their fitness is derived from the evaluation cache
(each gene's best pair), so the cache is the one source of every figure.
"""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from deap import tools

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.config import RunConfig
from evo.individuals import boxed
from evo.pair import Pair
from evo.population import refresh
from evo.scoring import objectives, run_key
from evo.search import SearchState, random_states, run_settings, set_random_states


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


def from_json(doc: dict[str, Any], config: RunConfig | None = None) -> SearchState:
    """Rebuild a state; `config` replaces the stored one (a resume may change a few
    settings, see evo.config.check_resume)."""
    config = config or RunConfig.from_dict(doc["config"], "checkpoint config")
    state = SearchState(config=config, generation=doc["generation"], cache=doc["cache"],
                        finals=doc["finals"])
    # Saved, not rebuilt from the cache: pairs that behave alike share one record, which
    # names only the first of their genes.
    state.best.best = {key: tuple(entry) for key, entry in doc["best"].items()}
    state.encoders = [boxed("encoder", EncoderGene.from_dict(g)) for g in doc["encoders"]]
    state.brains = [boxed("brain", BrainGene.from_dict(g)) for g in doc["brains"]]
    refresh(state.encoders + state.brains, state.best)
    settings = run_settings(config)

    def scored(data: dict[str, Any]):
        pair = Pair.from_dict(data)
        return boxed("pair", pair, objectives(state.cache[run_key(pair, settings)], config.speed_metric,
                                             config.rank_misses))
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
