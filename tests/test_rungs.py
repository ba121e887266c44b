"""Rungs (successive halving in a generation): budgets, promotion, every rung's record in
the cache equal to a direct run to its budget, resume, and no holdout during the search."""
import json
import math

import pytest

from evo.errors import UserError
from evo.execution import jobs
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.records import reached
from evo.rundir import checkpoint
from evo.search import rungs
from evo.search.config import RunConfig
from evo.search.scoring import cost, run_key
from runs import holdout_seen_by_search, run_cli
from test_search import TIMINGS, state_of

RUNGS = ["--p", "23", "--population", "4", "--offspring", "4", "--partners", "1", "--budget", "80",
         "--rungs", "3", "--eta", "2", "--train-frac", "0.6", "--final-seeds", "1", "--no-dashboard",
         "--seed", "3", "--workers", "1"]


def same_run(a, b):
    strip = lambda r: {k: v for k, v in r.items() if k not in TIMINGS + ("generation", "group_size")}
    return strip(a) == strip(b)


def test_budgets_rise_by_eta_to_the_top():
    assert rungs.budgets(300, 3, 3, 0, 10) == [30, 100, 300]
    assert rungs.budgets(300, 1, 3, 0, 10) == [300]
    assert rungs.budgets(270, 4, 3, 0, 10) == [10, 30, 90, 270]
    assert rungs.budgets(300, 3, 3, 50, 10) == [50, 120, 300]   # geometric from --min-budget
    assert rungs.check([10, 10, 20]) and rungs.check([30, 100, 300]) is None


def test_rungs_that_do_not_rise_are_a_user_error():
    with pytest.raises(UserError, match="--rungs"):
        RunConfig(budget=20, rungs=3, eta=2)
    with pytest.raises(UserError, match="--min-budget"):
        RunConfig(budget=100, rungs=2, min_budget=100)
    with pytest.raises(UserError, match="--eta"):
        RunConfig(rungs=2, eta=1)


def test_promotion_keeps_the_best_share_and_every_pair_that_reached():
    def rec(select, steps=None):
        return {"steps_to_threshold": steps, "flops_to_threshold": steps, "seconds_to_threshold": steps,
                "diverged": False, "threshold": 0.99, "steps_cap": 10,
                "flops_per_step": 1, "budget": 10, "max_flops": 100.0, "curve": [{"select_acc": select}]}
    records = [rec(0.2), rec(0.9), rec(0.5), rec(0.99, 10), rec(0.1), rec(0.6)]
    up, hits = rungs.promoted(records, 3, lambda r: cost(r, "flops"))
    assert hits == [3] and up == [1]   # ceil(6/3) = 2 best: the reached one and 0.9


def test_a_miss_below_the_top_is_priced_at_the_top_rung():
    record = {"steps_to_threshold": None, "diverged": False, "threshold": 0.99, "steps_cap": 30,
              "flops_per_step": 2, "budget": 30, "max_flops": 1e9, "curve": [{"select_acc": 0.5}]}
    low = rungs.verdict(record, 0, [30, 100, 300], rungs.settings_at(RunConfig().run_settings("cpu"), 300))
    assert math.isclose(cost(low, "flops"), cost({**record, "max_flops": 1e11}, "flops"))
    assert cost(low, "steps") == cost({**record, "budget": 300}, "steps")


def test_rung_records_equal_direct_runs_and_promotion_follows_the_rule(tmp_path, capsys, monkeypatch):
    started = []   # steps that promoted runs went on from (brains.carry)
    real = jobs.evaluate

    def spy(pair, settings, **options):
        if options.get("start") is not None:
            started.append(options["start"].step)
        return real(pair, settings, **options)
    monkeypatch.setattr(jobs, "evaluate", spy)
    # without the window a run that crossed holds to its rung's cap (with it: tests/test_carry.py);
    # under the classic rules this run's pairs meet no FLOP cap below a step cap (with the newer
    # rules some lower-rung runs reach theirs at steps 14 and 16, and carry from there)
    assert run_cli("run", *RUNGS, "--generations", "3", "--update-rules", "classic", "--no-hold-window",
                   "--out", str(tmp_path / "r")) == 0
    assert started and set(started) <= {20, 40}   # promoted pairs went on from their last rung's cap
    capsys.readouterr()
    doc = checkpoint.load(tmp_path / "r")
    config = RunConfig.stored(doc["config"])
    top = config.run_settings("cpu")
    ladder = config.rung_budgets()
    assert ladder == [20, 40, 80]
    at = {b: rungs.settings_at(top, b) for b in ladder}
    by_rung = {b: [] for b in ladder}
    verdicts = 0
    for key, record in doc["cache"].items():
        if record.get("opinions") or json.loads(key)["seed"] != top.seed:
            continue
        pair = Pair.from_dict(record)
        if "rung" in record:   # stopped low: its verdict is its highest rung's run
            verdicts += 1
            budget = ladder[record["rung"]["at"]]
            assert key == run_key(pair, top) and not reached(record)
            assert same_run({k: v for k, v in record.items() if k != "rung"}, doc["cache"][run_key(pair, at[budget])])
            continue
        budget = json.loads(key)["budget"]
        by_rung[budget].append(key)
        for low in ladder[:ladder.index(budget)]:   # every rung below holds its record too
            assert run_key(pair, at[low]) in doc["cache"] or reached(doc["cache"][run_key(pair, at[ladder[0]])])
    assert verdicts and all(by_rung.values())
    # every rung's record equals a direct run to its budget (a promoted pair went on from its carry)
    for budget in ladder:
        for key in by_rung[budget][:1] if budget == ladder[0] else by_rung[budget]:
            pair = Pair.from_dict(doc["cache"][key])
            assert same_run(doc["cache"][key], evaluate(pair, at[budget]))
    # no more went up than the rule allows: ceil(n / eta) and those that reached
    assert len(by_rung[40]) <= sum(math.ceil(n / 2) for n in (4, 4, 4, 4)) + \
        sum(reached(doc["cache"][k]) for k in by_rung[20])


def test_rung_records_survive_resume(tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run_cli("run", *RUNGS, "--generations", "4", "--out", str(whole)) == 0
    assert run_cli("run", *RUNGS, "--generations", "2", "--out", str(split)) == 0
    assert run_cli("run", *RUNGS, "--generations", "4", "--out", str(split), "--resume") == 0
    capsys.readouterr()
    a, b = state_of(whole), state_of(split)
    assert any("rung" in r for r in a["cache"].values())
    for key in ("generation", "encoders", "brains", "archive", "cache", "finals", "best", "random", "logbook"):
        assert a[key] == b[key], key


def test_holdout_never_built_during_a_search_with_rungs(monkeypatch):
    config = RunConfig(p=11, population=3, offspring=2, partners=1, budget=40, rungs=2, eta=2, workers=1,
                       generations=3, seed=5)
    state, leaked = holdout_seen_by_search(config, 3, monkeypatch)
    assert any("rung" in r for r in state.cache.values())
    assert not leaked

