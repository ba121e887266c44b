"""Polish (--polish): every gene one step along one field of the fastest front members. The
neighbours are checked against an oracle written here (a field-by-field comparison with the
parent), and a search with polish against the pairs it must have trained and a resume."""
import dataclasses
import json

import pytest

import genome
from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.errors import UserError
from evo.execution.parallel import Scorer
from evo.pair import Pair
from evo.recipes import get_recipe
from evo.rundir import checkpoint
from evo.search import variation
from evo.search.config import RunConfig
from evo.search.loop import CURRICULUM_FIELDS, ROUTER_HELD, Search
from evo.search.scoring import pair_key, run_key
from evo.search.state import new_state
from runs import SMALL, run_cli
from test_search import state_of, whole_and_resumed

BRAIN = dataclasses.replace(get_recipe("onehot-quad").pair.brain, egalitarian=True, lr=0.02, grokfast_lambda=2.0)
ENCODER = EncoderGene(family="fourier", freqs=(3, 7), sdr=0.3, combiner="concat")
# the run flags under which small pairs reach the threshold, so that a front member exists to polish
REACHING = ["--seed-with", "onehot-quad", "--train-frac", "0.7", "--budget", "60", "--threshold", "0.5",
            "--select", "all", "--hold", "0", "--polish", "1"]


def changed(a, b) -> list[str]:
    """The oracle: the fields, among those that matter to either gene, whose values differ."""
    specs = genome.specs(a)
    return [name for name in specs if getattr(a, name) != getattr(b, name)
            and (genome.is_active(a, specs[name]) or genome.is_active(b, specs[name]))]


@pytest.mark.parametrize("gene, frozen", [(BRAIN, CURRICULUM_FIELDS | ROUTER_HELD), (ENCODER, frozenset())])
def test_every_neighbour_is_one_step_along_one_field(gene, frozen):
    out = variation.neighbours(gene, frozen=frozen)
    assert out == variation.neighbours(gene, frozen=frozen)     # no randomness: a resume asks for the same
    assert len({genome.key(g) for g in out}) == len(out) and genome.key(gene) not in {genome.key(g) for g in out}
    for child in out:
        fields = changed(gene, child)
        assert len(fields) == 1 and not set(fields) & frozen, fields
    moved = {(changed(gene, g)[0], json.dumps(getattr(g, changed(gene, g)[0]))) for g in out}
    if isinstance(gene, BrainGene):
        for expected in [("lr", "0.04"), ("lr", "0.01"), ("egalitarian", "false"), ("grokfast_lambda", "0.0"),
                         ("weight_decay", "0.0"), ("hidden", "[256]"), ("hidden", "[64]"), ("hidden", "[]"),
                         ("hidden", "[128, 128]"), ("loss", '"xent"'), ("activation", '"relu"')]:
            assert expected in moved, expected
        assert ("grad_clip", json.dumps(variation._moves(0.0, genome.specs(BrainGene)["grad_clip"])[0])) in moved
    else:
        assert {("sdr", "0.0"), ("freqs", "[3]"), ("freqs", "[3, 7, 7]"), ("freqs", "[6, 14]"),
                ("combiner", '"sum"')} <= moved


def test_a_neighbour_the_run_does_not_offer_is_left_out():
    only_concat = lambda g: g.combiner == "concat"   # noqa: E731
    out = variation.neighbours(ENCODER, only_concat)
    assert out and all(g.combiner == "concat" for g in out)
    assert "lr_schedule" not in {f for g in variation.neighbours(BRAIN, frozen=frozenset({"lr_schedule"}))
                                 for f in changed(BRAIN, g)}


def test_polish_is_on_by_default_and_old_checkpoints_resume_without_it():
    assert RunConfig(p=11).polish == 1
    made_before = RunConfig(p=11).to_dict()
    made_before.pop("polish")
    assert RunConfig.stored(made_before).polish == 0
    assert RunConfig.stored({**made_before, "polish": 2}).polish == 2
    assert RunConfig(p=11).polish_misses is False
    assert RunConfig.stored({k: v for k, v in RunConfig(p=11).to_dict().items() if k != "polish_misses"}
                            ).polish_misses is False
    for bad in (-1, 1.5, True):
        with pytest.raises(UserError):
            RunConfig(p=11, polish=bad)
    assert RunConfig.stored({k: v for k, v in RunConfig(p=11).to_dict().items() if k != "polish_floor"}
                            ).polish_floor == 0.0
    for bad in (-0.1, 1.5, True, "x"):
        with pytest.raises(UserError, match="--polish-floor"):
            RunConfig(p=11, polish_floor=bad)


def test_a_polished_generation_trains_every_neighbour_of_the_fastest_member():
    config = RunConfig(p=11, population=3, offspring=2, partners=1, budget=60, train_frac=0.7, threshold=0.5,
                       select="all", hold=0.0, seed=5, seed_with=("onehot-quad",), polish=1, workers=1)
    state = new_state(config)
    with Scorer(1) as scorer:
        search = Search(state, scorer, lambda *a, **k: None)
        search.generation()
        fastest = min(state.archive, key=lambda ind: (ind.fitness.values, pair_key(ind.gene))).gene
        assert state.cache[run_key(fastest, state.settings)]["steps_to_threshold"] is not None
        assert search.phase(state.generation + 1) == "brains"
        search.generation()
    neighbours = [Pair(fastest.encoder, b) for b in variation.neighbours(fastest.brain, search.brain_ok,
                                                                         search.brain_frozen)]
    assert neighbours and all(run_key(pair, state.settings) in state.cache for pair in neighbours)
    unpolished = new_state(dataclasses.replace(config, polish=0))
    with Scorer(1) as scorer:
        search = Search(unpolished, scorer, lambda *a, **k: None)
        search.generation()
        search.generation()
    assert len(state.cache) >= len(unpolished.cache) + len(neighbours) - 1


def test_polish_misses_climbs_from_the_closest_miss_before_anything_reaches():
    """Nothing reaches an unreachable threshold: plain polish trains no neighbour, and with
    polish_misses the second generation trains every neighbour of the member with the least
    shortfall (the oracle: the lowest gap of best select accuracy, read off the records)."""
    config = RunConfig(p=11, population=3, offspring=2, partners=1, budget=20, train_frac=0.7, threshold=1.0,
                       select="all", hold=0.0, seed=5, polish=1, polish_misses=True, workers=1)
    trained = {}
    for misses, floor in ((True, 0.0), (False, 0.0), ("floor", 1.0)):   # floor 1: no miss is above it
        state = new_state(dataclasses.replace(config, polish_misses=bool(misses), polish_floor=floor))
        with Scorer(1) as scorer:
            search = Search(state, scorer, lambda *a, **k: None)
            search.generation()
            records = {pair_key(ind.gene): state.cache[run_key(ind.gene, state.settings)] for ind in state.archive}
            assert not any(r["steps_to_threshold"] is not None for r in records.values())
            closest = min(state.archive, key=lambda ind: gap(records[pair_key(ind.gene)], pair_key(ind.gene))).gene
            search.generation()
        neighbours = [Pair(closest.encoder, b) for b in variation.neighbours(closest.brain, search.brain_ok,
                                                                             search.brain_frozen)]
        trained[misses] = [run_key(pair, state.settings) in state.cache for pair in neighbours]
    assert all(trained[True]) and trained[True]
    assert not all(trained[False])
    assert trained["floor"] == trained[False]


def gap(record, key):
    """The oracle's order of misses: shortfall of the best select accuracy, then size (as
    survival breaks a tie), then the pair's key."""
    return 1.0 - max(p["select_acc"] for p in record["curve"]), record["params"], key


@pytest.mark.slow
def test_a_polished_run_resumes_exactly(tmp_path, capsys):
    whole, split = whole_and_resumed(tmp_path, [*SMALL, *REACHING], 5, 3)
    capsys.readouterr()
    a, b = state_of(whole), state_of(split)
    assert checkpoint.load(split)["config"]["polish"] == 1
    for key in ("encoders", "brains", "archive", "cache", "finals", "best", "random"):
        assert a[key] == b[key], key


def test_polish_is_a_flag(tmp_path, capsys):
    assert run_cli("run", *SMALL, "--polish", "-1", "--out", str(tmp_path / "r")) == 2
    assert "--polish" in capsys.readouterr().err
    assert run_cli("run", *SMALL, "--polish-misses", "yes", "--out", str(tmp_path / "r2")) == 2
