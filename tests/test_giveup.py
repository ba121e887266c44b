"""--give-up (evo.search.giveup, brains.loop.run's `give_up`): a run stops once its
crossing would cost at least its bar, the cost of a front member no larger than it.
Checked on planted select curves (the scripted back end of test_hold), against an oracle
that reads where the curve first crosses; then in real runs and a real search."""
import dataclasses
import json

import pytest

from brains.loop import run
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.recipes import get_recipe
from evo.search.config import RunConfig
from evo.search.giveup import barred, staircase
from evo.search.scoring import pair_key
from evo.settings import RunSettings
from evo.tasks import TaskSpec
from evo.errors import UserError
from test_hold import Scripted

LATE = {0: 0.1, 70: 0.995}     # crosses at 70 and stays
EARLY = {0: 0.1, 20: 0.995}    # crosses at 20 and stays
NEVER = {0: 0.1, 40: 0.5}


def oracle_stop(script: dict[int, float], bar: float, budget: int, every: int = 10) -> tuple[int, str]:
    """(steps run, why), the slow obvious way: walk the evaluations in order."""
    for step in range(every, budget + 1, every):
        acc = script[max(s for s in script if s <= step)]
        if acc >= 0.99:
            return budget, "threshold"   # a crossing holds to the cap (hold 1)
        if step >= bar:
            return step, "beaten"
    return budget, "budget"


@pytest.mark.parametrize("bar", [5, 20, 30, 45, 70, 71, 300, 1000])
def test_a_run_stops_at_its_bar_unless_it_crossed_before(bar):
    results = run(Scripted([LATE, EARLY, NEVER]), 3, budget=300, hold=1.0, give_up=[bar] * 3)
    for script, result in zip((LATE, EARLY, NEVER), results):
        assert (result.steps_run, result.stopped) == oracle_stop(script, bar, 300)


def test_a_crossing_before_the_bar_trains_as_without_one_and_none_is_no_bar():
    plain = run(Scripted([EARLY, LATE]), 2, budget=300, hold=1.0)
    barred = run(Scripted([EARLY, LATE]), 2, budget=300, hold=1.0, give_up=[25, None])
    for a, b in zip(plain, barred):
        assert (a.steps_to_threshold, a.steps_run, a.stopped, a.curve) == \
            (b.steps_to_threshold, b.steps_run, b.stopped, b.curve)


def oracle_behind(script: dict[int, float], bar: float, budget: int, behind: str, window: bool) -> tuple[int, str]:
    """(steps run, why) with `behind`, the slow obvious way: a first crossing at or past the bar
    ("at"), or past it ("past"), ends the run there; any other is held (to 2s with a window)."""
    for step in range(10, budget + 1, 10):
        if script[max(s for s in script if s <= step)] >= 0.99:
            if step > bar or (behind == "at" and step == bar):
                return step, "behind"
            return (2 * step if window else budget), "threshold"
        if step >= bar:
            return step, "beaten"
    return budget, "budget"


@pytest.mark.parametrize("behind", ["at", "past"])
@pytest.mark.parametrize("window", [False, True])
@pytest.mark.parametrize("bar", [5, 15, 20, 30, 70, 71, 300])
def test_a_crossing_behind_its_bar_ends_there_unheld(behind, window, bar):
    scripts = [LATE, EARLY, NEVER]
    plain = run(Scripted(scripts), 3, budget=300, hold=1.0, hold_window=window)
    results = run(Scripted(scripts), 3, budget=300, hold=1.0, hold_window=window, give_up=[bar] * 3, behind=behind)
    for script, mine, free in zip(scripts, results, plain):
        assert (mine.steps_run, mine.stopped) == oracle_behind(script, bar, 300, behind, window)
        if mine.stopped == "behind":   # the plain run's crossing, cut there
            assert mine.steps_to_threshold == free.steps_to_threshold == mine.steps_run
            assert mine.curve == [p for p in free.curve if p["step"] <= mine.steps_run]
    # off ("") and with no bar, every crossing is held as before
    assert [(r.steps_run, r.stopped) for r in run(Scripted(scripts), 3, budget=300, hold=1.0, give_up=[bar] * 3)] == \
        [oracle_stop(script, bar, 300) for script in scripts]
    assert [(r.steps_run, r.stopped) for r in run(Scripted(scripts), 3, budget=300, hold=1.0, behind=behind,
                                                  hold_window=window, give_up=[None] * 3)] == [(r.steps_run, r.stopped) for r in plain]


@pytest.mark.parametrize("behind, stopped", [("at", "behind"), ("past", "threshold")])
def test_a_flop_crossing_at_its_bar_is_behind_only_where_ties_stay_out(behind, stopped):
    # 100 FLOPs a step: EARLY's crossing at 20 costs 2000, the bar; a tie enters under "past"
    result = run(Scripted([EARLY], flops=100), 1, budget=300, hold=1.0, give_up=[2000.0], give_up_in="flops",
                 behind=behind)[0]
    assert (result.stopped, result.steps_to_threshold) == (stopped, 20)
    assert result.steps_run == (20 if stopped == "behind" else 300)


def test_a_flop_bar_counts_steps_and_charged_evaluations():
    # 100 FLOPs a step, 1000 an evaluation, every evaluation charged (every 10 steps): a
    # crossing at step s would cost 100 s + 1000 s / 10 = 200 s, so a bar of 9000 stops at 50
    backend = Scripted([NEVER], flops=100)
    backend.eval_flops = [1000]
    result = run(backend, 1, budget=300, give_up=[9000], give_up_in="flops", charge_evals=True)[0]
    assert result.stopped == "beaten" and result.steps_run == 50
    free = run(Scripted([NEVER], flops=100), 1, budget=300, give_up=[9000], give_up_in="flops")[0]
    assert free.steps_run == 90   # evaluations not charged: 100 FLOPs a step


def test_the_staircase_takes_reached_members_and_the_bar_the_cheapest_no_larger():
    class Ind:
        def __init__(self, gene):
            self.gene = gene
    def rec(params, steps):
        return {"params": params, "steps_to_threshold": steps, "flops_to_threshold": steps and steps * params,
                "seconds_to_threshold": steps}
    records = {"a": rec(1000, 30), "b": rec(100, 80), "c": rec(50, None)}
    stairs = staircase([Ind(k) for k in records], records.__getitem__, "steps", 2.0)
    assert stairs == ((100, 160.0), (1000, 60.0))
    settings = RunSettings(give_up=stairs)
    assert [settings.bar(n) for n in (99, 100, 999, 1000, 10 ** 6)] == [None, 160.0, 160.0, 60.0, 60.0]
    assert settings.to_dict() == RunSettings().to_dict()   # not in the cache key
    assert staircase([Ind(k) for k in records], records.__getitem__, "flops", 1.0) == ((100, 8000.0), (1000, 30000.0))


def test_a_real_run_beaten_at_its_bar_is_the_plain_run_cut_there():
    pair = get_recipe("onehot-quad").pair
    plain = RunSettings(task=TaskSpec(op="add", p=23), budget=60, eval_every=5, hold=1.0)
    full = evaluate(pair, plain)
    beaten = evaluate(pair, dataclasses.replace(plain, give_up=((1, 10.0),)))
    assert beaten["stopped"] == "beaten" and beaten["steps_run"] == 10 and beaten["give_up"]["bar"] == 10.0
    assert beaten["curve"] == [p for p in full["curve"] if p["step"] <= 10]
    big_bar = evaluate(pair, dataclasses.replace(plain, give_up=((1, 10 ** 6),)))
    drop = ("seconds", "seconds_to_threshold", "profile", "machine")
    assert {k: v for k, v in big_bar.items() if k not in drop} == {k: v for k, v in full.items() if k not in drop}
    assert json.dumps(big_bar["curve"]) == json.dumps(full["curve"])


@pytest.mark.parametrize("flags, extra", [({"rungs": 2}, ["--rungs", "2"]),
                                          ({"tasks": ("add", "sub")}, ["--tasks", "add,sub"]),
                                          ({"speed_metric": "seconds"}, ["--speed-metric", "seconds"]),
                                          ({"objectives": ("cost", "size", "data")}, ["--objectives", "cost,size,data"])])
def test_give_up_is_off_where_its_bar_cannot_read_and_an_error_if_asked_for(tmp_path, capsys, flags, extra):
    from runs import SMALL, run_cli
    config = RunConfig(**flags)          # the default K = 1, silently off
    assert config.give_up == 1.0 and config.give_up_clash()
    assert barred(RunSettings(), config, [], lambda gene: {}) == RunSettings()
    assert run_cli("run", *SMALL, *extra, "--give-up", "1", "--generations", "1", "--out", str(tmp_path / "r")) == 2
    assert "--give-up: not with" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("k", [0.5, -1, True])
def test_give_up_is_zero_or_at_least_one(k):
    with pytest.raises(UserError, match="--give-up"):
        RunConfig(give_up=k)


def oracle_bar(cache: dict, record: dict, seed: int, k: float, metric: str = "steps") -> float | None:
    """A beaten run's bar, the slow way: K times the least cost among the pairs of earlier
    generations that reached the threshold on the run's seed with no more weights (the
    front at the start of its generation is the non-dominated set of exactly these)."""
    from evo.records import reached
    from evo.search.scoring import cost
    costs = [cost(r, metric) for key, r in cache.items() if r.get("generation", 0) < record["generation"]
             and json.loads(key)["seed"] == seed and reached(r) and r["params"] <= record["params"]]
    return k * min(costs) if costs else None


@pytest.mark.parametrize("k", [1.0, 2.0])
def test_a_search_gives_up_on_a_run_only_at_the_bar_its_front_set(k):
    from evo.execution.parallel import Scorer
    from evo.search.loop import Search
    from evo.search.state import new_state
    config = RunConfig(p=11, population=4, offspring=4, partners=1, budget=60, train_frac=0.7, select="all",
                       threshold=0.5, speed_metric="steps", hold=1.0, seed=3, give_up=k, workers=1,
                       seed_with=("onehot-quad",))
    state = new_state(config)
    with Scorer(1) as scorer:
        search = Search(state, scorer, lambda *a, **kw: None)
        for _ in range(4):
            search.generation()
    beaten = [r for r in state.cache.values() if r.get("stopped") == "beaten"]
    assert beaten, "no run was given up on: the test checks nothing"
    behind = [r for r in state.cache.values() if r.get("stopped") == "behind"]
    assert behind, "no run crossed behind its bar: the test checks nothing"
    front = {pair_key(ind.gene) for ind in state.archive}
    for record in behind:   # ended at a crossing that costs its bar or more (ties one), unheld
        bar = oracle_bar(state.cache, record, config.seed, k)
        assert record["give_up"] == {"bar": bar, "in": "steps"}
        assert record["steps_to_threshold"] == record["steps_run"] >= bar
        assert record["curve"][-1]["select_acc"] >= config.threshold
        # an earlier point above the threshold was a crossing before the bar, lost in its hold
        assert record["crossings_lost"] or all(p["select_acc"] < config.threshold for p in record["curve"][:-1])
        assert pair_key(Pair.from_dict(record)) not in front or any(   # the same pair reached elsewhere
            r is not record and pair_key(Pair.from_dict(r)) == pair_key(Pair.from_dict(record)) for r in state.cache.values())
    for record in beaten:
        bar = oracle_bar(state.cache, record, config.seed, k)
        assert record["give_up"] == {"bar": bar, "in": "steps"}
        assert record["steps_to_threshold"] is None and record["steps_run"] >= bar
        # it stopped at its first evaluation at the bar that held no crossing: a crossing before
        # the bar trains on while it holds, and the run is beaten where it is lost
        assert all(p["step"] < bar or p["select_acc"] >= config.threshold for p in record["curve"][:-1])
        assert record["curve"][-1]["select_acc"] < config.threshold


@pytest.mark.slow
def test_a_search_with_give_up_resumes_exactly(tmp_path, capsys):
    from runs import SMALL
    from test_search import state_of, whole_and_resumed
    flags = [*SMALL, "--seed-with", "onehot-quad", "--train-frac", "0.7", "--budget", "60", "--threshold", "0.5",
             "--select", "all", "--speed-metric", "steps", "--give-up", "1"]
    whole, split = whole_and_resumed(tmp_path, flags, 5, 2)
    capsys.readouterr()
    a, b = state_of(whole), state_of(split)
    assert any(r.get("stopped") == "beaten" for r in a["cache"].values())
    for key in ("archive", "cache", "finals", "best", "random", "logbook"):
        assert a[key] == b[key], key
