"""Random immigrants (--immigrants K): K of a generation's children are fresh random genes.
The oracle: the same draws made here from a copy of the run's generator, as the first
generation makes them (evo.search.variation.random_gene), must be the pairs the generation
trained; and a run with immigrants resumes exactly."""
import dataclasses
import random

import pytest

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.errors import UserError
from evo.execution.parallel import Scorer
from evo.pair import Pair
from evo.search import population as popmod
from evo.search import variation
from evo.search.config import RunConfig
from evo.search.loop import Search
from evo.search.individuals import boxed
from evo.search.scoring import run_key
from evo.search.state import new_state
from runs import SMALL, run_cli
from test_search import state_of, whole_and_resumed

CONFIG = RunConfig(p=11, population=3, offspring=2, partners=1, budget=20, train_frac=0.7, select="all",
                   hold=0.0, seed=5, immigrants=2, workers=1)


def test_immigrants_skip_genes_the_population_or_they_already_hold():
    genes = [dataclasses.replace(BrainGene(), lr=lr) for lr in (0.01, 0.02, 0.01, 0.03, 0.04)]
    queue = iter(genes)
    pop = [boxed("brain", genes[1])]
    out = popmod.immigrants("brain", pop, 2, lambda: next(queue))
    assert [ind.gene.lr for ind in out] == [0.01, 0.03]   # 0.02 is a member, the second 0.01 a repeat


@pytest.mark.parametrize("generation", [1, 2])   # the brain side, then the encoder side
def test_a_generation_of_immigrants_trains_the_genes_a_fresh_draw_gives(generation):
    state = new_state(CONFIG)
    with Scorer(1) as scorer:
        search = Search(state, scorer, lambda *a, **k: None)
        for _ in range(generation):
            search.generation()
        kind = "brain" if search.phase(state.generation + 1) == "brains" else "encoder"
        other = state.encoders if kind == "brain" else state.brains
        partner = popmod.best(other, 1)[0].gene
        oracle = random.Random()
        oracle.setstate(state.rng.getstate())
        drawn = []
        while len(drawn) < CONFIG.immigrants:   # none of these tiny draws repeats a member
            if kind == "brain":
                drawn.append(variation.random_gene(BrainGene, oracle, search.brain_ok, frozen=search.brain_frozen))
            else:
                drawn.append(search.canon(variation.random_gene(EncoderGene, oracle, search.encoder_ok)))
        before = set(state.cache)
        search.generation()
    pairs = [Pair(partner, g) if kind == "brain" else Pair(g, partner) for g in drawn]
    assert {run_key(p, state.settings) for p in pairs} == set(state.cache) - before


def test_a_joint_generation_of_immigrants_trains_fresh_pairs():
    """Joint schedule: each immigrant is an encoder drawn, then a brain, from the run's generator."""
    state = new_state(dataclasses.replace(CONFIG, schedule="joint"))
    with Scorer(1) as scorer:
        search = Search(state, scorer, lambda *a, **k: None)
        search.generation()
        oracle = random.Random()
        oracle.setstate(state.rng.getstate())
        pairs = []
        for _ in range(CONFIG.immigrants):
            encoder = search.canon(variation.random_gene(EncoderGene, oracle, search.encoder_ok))
            pairs.append(Pair(encoder, variation.random_gene(BrainGene, oracle, search.brain_ok,
                                                             frozen=search.brain_frozen)))
        before = set(state.cache)
        search.generation()
    assert {run_key(p, state.settings) for p in pairs} == set(state.cache) - before


def test_immigrants_are_off_by_default_checked_and_old_checkpoints_resume_without_them():
    assert RunConfig(p=11).immigrants == 0
    made_before = {k: v for k, v in RunConfig(p=11).to_dict().items() if k != "immigrants"}
    assert RunConfig.stored(made_before).immigrants == 0
    for bad in (-1, 13, 1.5, True):
        with pytest.raises(UserError, match="--immigrants"):
            RunConfig(p=11, immigrants=bad)


def test_immigrants_is_a_flag(tmp_path, capsys):
    assert run_cli("run", *SMALL, "--immigrants", "3", "--out", str(tmp_path / "r")) == 2   # more than --offspring 2
    assert "--immigrants" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_with_immigrants_resumes_exactly(tmp_path, capsys):
    whole, split = whole_and_resumed(tmp_path, [*SMALL, "--immigrants", "1"], 4, 2)
    capsys.readouterr()
    a, b = state_of(whole), state_of(split)
    for key in ("encoders", "brains", "archive", "cache", "finals", "best", "random"):
        assert a[key] == b[key], key
