"""The data objective: nested splits with one select and holdout for every fraction, the
ladder walked down while a pair reaches, three objectives end to end, and exact resume."""
import dataclasses
import json
import math
import numpy as np
import pytest

from evo.errors import UserError
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.recipes import get_recipe
from evo.rundir import checkpoint
from evo.search import ladder
from evo.search.config import RunConfig
from evo.search.scoring import objectives, run_key
from evo.settings import RunSettings
from evo.tasks import TaskSpec, make_split
from runs import SMALL, holdout_seen_by_search, run_cli
from test_search import state_of

FRACTIONS = (0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05)
# p 11 with an easy recipe seeded, so that pairs reach and the ladder is walked
DATA = ["--seed-with", "onehot-quad", "--population", "4", "--budget", "150", "--threshold", "0.5",
        "--select", "all", "--hold", "0", "--train-frac", "0.7", "--objectives", "cost,size,data",
        "--fractions", "0.5,0.35,0.2"]


def keys(split, idx):
    return {tuple(pair) for pair in split.pairs[idx].tolist()}


@pytest.mark.parametrize("split", ["random", "ordered"])
@pytest.mark.parametrize("pairs", ["ordered", "unordered"])
def test_every_fraction_shares_select_and_holdout_and_nests_its_training_set(split, pairs):
    top = TaskSpec(op="add", p=23, split=split, pairs=pairs, train_frac=0.5, split_seed=4)
    splits = [make_split(dataclasses.replace(top, train_frac=f, pool_frac=0.5) if f < 0.5 else top)
              for f in FRACTIONS]
    plain = make_split(top)
    for s in splits:
        assert keys(s, s.select) == keys(plain, plain.select) and keys(s, s.holdout) == keys(plain, plain.holdout)
        train, select, holdout = keys(s, s.train), keys(s, s.select), keys(s, s.holdout)
        assert not (train & select) and not (train & holdout) and not (select & holdout)
        assert len(s.train) == round(s.spec.train_frac * len(s.pairs))
    for larger, smaller in zip(splits, splits[1:]):
        assert keys(smaller, smaller.train) < keys(larger, larger.train)


def test_a_pool_equal_to_the_training_fraction_is_the_old_split():
    spec = TaskSpec(op="mul", p=23, train_frac=0.4, split_seed=2)
    old, pooled = make_split(spec), make_split(dataclasses.replace(spec, pool_frac=0.4))
    for name in ("train", "select", "holdout"):
        assert np.array_equal(getattr(old, name), getattr(pooled, name))
    assert "pool_frac" not in spec.to_dict()   # a task made before the ladder keeps its key


def test_a_ladder_must_walk_down_from_the_training_fraction():
    with pytest.raises(UserError, match="exceeds --train-frac"):
        RunConfig(p=23, objectives=("cost", "size", "data"), train_frac=0.3)
    with pytest.raises(UserError, match="--objectives"):
        RunConfig(p=23, objectives=("size", "cost"))
    config = RunConfig(p=23, objectives=("cost", "size", "data"), fractions=(0.1, 0.3, 0.5))
    assert config.ladder() == [0.3, 0.1] and RunConfig(p=23).ladder() == []


def test_the_third_objective_is_the_log_of_the_lowest_fraction_reached():
    record = {"steps_to_threshold": 10, "flops_to_threshold": 1e9, "seconds_to_threshold": 1.0, "params": 1000,
              "diverged": False,
              "lowest_frac": 0.1}
    assert objectives(record, "flops") == (9.0, 3.0)
    assert objectives(record, "flops", data=True) == (9.0, 3.0, -1.0)
    missed = {**record, "steps_to_threshold": None, "threshold": 0.99, "select_acc": 0.5, "max_flops": 1e11,
              "budget": 300, "steps_cap": 300, "flops_per_step": 1e8}
    assert objectives(missed, "flops", data=True)[2] == 0.0     # never reached: a fraction of 1


def test_the_ladder_records_its_rungs_and_stops_at_the_first_miss():
    top = {"steps_to_threshold": 30, "flops_to_threshold": 5.0, "diverged": False}
    hit, miss = dict(top), {**top, "steps_to_threshold": None}
    out = ladder.annotated(top, 0.5, [(0.3, hit), (0.2, miss)])
    assert out["lowest_frac"] == 0.3 and [s["train_frac"] for s in out["ladder"]] == [0.5, 0.3, 0.2]
    assert ladder.annotated(top, 0.5, [(0.3, miss)])["lowest_frac"] == 0.5


def test_progress_credit_orders_misses_at_the_next_fraction_below_a_reach():
    """The credited data objective against a slow oracle: a linear move in log10 fraction by
    select accuracy over the threshold, capped below a reach."""
    top = {"steps_to_threshold": 30, "flops_to_threshold": 5.0, "seconds_to_threshold": 1.0, "params": 100,
           "diverged": False}
    def miss(select, diverged=False):
        return {"steps_to_threshold": None, "diverged": diverged, "threshold": 0.99,
                "curve": [{"step": 10, "select_acc": select / 2}, {"step": 20, "select_acc": select}]}
    def value(walked, credit="progress"):
        return objectives(ladder.annotated(top, 0.5, walked, credit), "flops", data=True)[2]

    def oracle(lowest, missed, select):
        share = min(0.99, select / 0.99)
        return math.log10(lowest) * (1 - share) + math.log10(missed) * share
    for select in (0.0, 0.3, 0.9, 0.985):
        assert value([(0.3, dict(top)), (0.2, miss(select))]) == pytest.approx(oracle(0.3, 0.2, select))
    near, far = value([(0.3, dict(top)), (0.2, miss(0.98))]), value([(0.3, dict(top)), (0.2, miss(0.02))])
    reach = value([(0.3, dict(top)), (0.2, dict(top))])
    assert reach < near < far < math.log10(0.3) + 1e-12            # lower is better, a reach best of all
    assert value([(0.3, dict(top)), (0.2, miss(0.9, diverged=True))]) == pytest.approx(math.log10(0.3))
    assert value([(0.3, dict(top)), (0.2, miss(0.98))], "reached") == pytest.approx(math.log10(0.3))
    assert value([(0.3, dict(top)), (0.2, dict(top))], "progress") == pytest.approx(math.log10(0.2))
    assert ladder.annotated(top, 0.5, [(0.3, miss(0.5))], "reached").get("data_value") is None
    made_before = RunConfig(p=23, objectives=("cost", "size", "data")).to_dict()
    made_before.pop("data_credit")
    assert RunConfig.stored(made_before).data_credit == "reached"    # an old checkpoint resumes as it ran
    assert RunConfig(p=23).data_credit == "progress"
    with pytest.raises(UserError, match="--data-credit"):
        RunConfig(p=23, data_credit="some")


def test_a_search_with_the_data_objective_walks_the_ladder_and_resumes_exactly(tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run_cli("run", *SMALL, *DATA, "--generations", "3", "--workers", "1", "--out", str(whole)) == 0
    assert run_cli("run", *SMALL, *DATA, "--generations", "2", "--workers", "1", "--out", str(split)) == 0
    assert run_cli("run", *SMALL, *DATA, "--generations", "3", "--workers", "1", "--out", str(split),
                   "--resume") == 0
    capsys.readouterr()
    a, b = state_of(whole), state_of(split)
    for key in ("generation", "encoders", "brains", "archive", "cache", "finals", "best", "random", "logbook"):
        assert a[key] == b[key], key

    doc = checkpoint.load(whole)
    config = RunConfig.stored(doc["config"])
    settings = config.run_settings("cpu")
    walked = [r for r in doc["cache"].values() if "ladder" in r]
    assert walked, "no pair reached: the ladder was not exercised"
    for record in walked:
        steps = record["ladder"]
        assert [s["train_frac"] for s in steps] == [0.7, 0.5, 0.35, 0.2][:len(steps)] and len(steps) > 1
        assert all(s["reached"] for s in steps[:-1])   # walked down only while it reached
        assert record["lowest_frac"] == min(s["train_frac"] for s in steps if s["reached"])
        pair = Pair.from_dict(record)
        for s in steps[1:]:   # every rung is a plain run, cached under its own settings
            below = doc["cache"][run_key(pair, ladder.settings_at(settings, s["train_frac"]))]
            assert below["task"]["train_frac"] == s["train_frac"] and below["task"]["pool_frac"] == 0.7
            assert below["steps_to_threshold"] == s["steps_to_threshold"]
    assert all(len(e["min"]) == 3 for e in doc["logbook"]) and doc["logbook"][-1]["hypervolume"] > 0

    members = json.loads((whole / "front.json").read_text())["members"]
    assert members and all("train_frac" in m for m in members)
    for m in members:
        record = doc["cache"][run_key(Pair.from_dict(m), settings)]
        if "lowest_frac" in record:
            assert m["train_frac"] == record["lowest_frac"]
        pair_file = json.loads((whole / m["pair_file"]).read_text())
        assert pair_file["task"]["train_frac"] == m["train_frac"]
    assert run_cli("report", str(whole)) == 0 and run_cli("show", str(whole)) == 0
    shown = capsys.readouterr().out
    report = (whole / "report.md").read_text()
    assert "train fraction" in report and (whole / "report_ladder.png").exists()
    header = next(line for line in shown.splitlines() if "id" in line and "┃" in line)
    assert "tr" in header.split("┃")[2]    # the front table's second column: the training fraction


def test_a_lower_fraction_trains_longer_and_never_stops_on_a_plateau():
    settings = RunSettings(task=TaskSpec(op="add", p=97, train_frac=0.5), budget=500, max_flops=2e11, patience=5)
    assert ladder.settings_at(settings, 0.5) is settings
    for frac, budget in ((0.3, 840), (0.1, 2500), (0.07, 3580)):
        low = ladder.settings_at(settings, frac)
        assert (low.budget, low.patience) == (budget, 0) and math.isclose(low.max_flops, 2e11 * 0.5 / frac)


def test_a_pair_file_at_a_lower_fraction_reproduces_its_ladder_run():
    settings = RunSettings(task=TaskSpec(op="add", p=11, train_frac=0.5), budget=150, threshold=0.5)
    low = ladder.settings_at(settings, 0.25)
    assert low.task.pool_frac == 0.5 and RunSettings.from_dict(json.loads(low.to_json())) == low
    pair = get_recipe("onehot-quad").pair
    a, b = evaluate(pair, low), evaluate(pair, RunSettings.from_dict(json.loads(low.to_json())))
    assert a["curve"] == b["curve"] and a["task"]["sizes"]["train"] == round(0.25 * 121)
    assert a["task"]["sizes"]["select"] + a["task"]["sizes"]["holdout"] == 121 - round(0.5 * 121)


def test_holdout_never_built_while_the_ladder_is_walked(monkeypatch):
    config = RunConfig(p=11, population=4, offspring=2, partners=1, budget=150, threshold=0.5, select="all",
                       hold=0.0, seed_with=("onehot-quad",), objectives=("cost", "size", "data"), train_frac=0.7,
                       fractions=(0.5, 0.35, 0.2), workers=1, seed=5)
    state, leaked = holdout_seen_by_search(config, 2, monkeypatch)
    assert any("ladder" in r for r in state.cache.values())
    assert not leaked
