"""Exact step counts: dense early evaluations (brains.cadence) and charged select passes.

Oracles: the schedule's counts against a step-by-step walk; the charged cap against a
search over every step count; the loop against a planted back end whose select accuracy
crosses at a known step; the charged FLOPs against torch's own counter; a carried run
against a direct one."""
import dataclasses

import pytest
import torch

from brains.cadence import Cadence, charged_cap
from brains.flops import predict_flops
from brains.loop import Evaluation, StepOut, run
from brains.train import train
from evo.execution.evaluate import evaluate, prepare
from evo.recipes import get_recipe
from evo.records import cap_flops, run_flops
from evo.settings import RunSettings
from evo.tasks import TaskSpec

TASK = TaskSpec(op="add", p=23, train_frac=0.6)


def walk(every: int, dense: int, n: int) -> list[int]:
    """The oracle: the steps the schedule evaluates at, by its definition, one by one."""
    return [s for s in range(1, n + 1) if s <= dense or s % every == 0]


@pytest.mark.parametrize("every", [1, 3, 10])
@pytest.mark.parametrize("dense", [0, 1, 7, 20, 50])
def test_the_schedule_counts_as_a_step_by_step_walk(every, dense):
    cadence = Cadence(every, dense)
    for n in range(0, 120):
        steps = walk(every, dense, n)
        assert cadence.count(n) == len(steps)
        assert cadence.through(n) == len(steps) + (n > 0 and (not steps or steps[-1] != n))
        assert cadence.last(n) == (steps[-1] if steps else 0)


@pytest.mark.parametrize("dense", [0, 20])
def test_the_charged_cap_is_the_largest_step_count_that_fits(dense):
    cadence = Cadence(10, dense)
    for max_flops in (1, 50, 999, 1234, 5000, 10 ** 6):
        fits = [n for n in range(1, 301) if n * 7 + cadence.through(n) * 30 <= max_flops]
        assert charged_cap(300, 7, 30, cadence, max_flops) == (max(fits) if fits else 1)
    assert charged_cap(300, 7, 30, cadence, None) == 300


class Planted:
    """A back end whose select accuracy is 1 from step `at` on, 0 before: one member."""

    def __init__(self, at: int, step_flops: int = 100, eval_flops: int = 40):
        self.at, self.now = at, 0
        self.step_flops, self.eval_flops = [step_flops], [eval_flops]
        self.device = torch.device("cpu")

    def step(self) -> StepOut:
        self.now += 1
        return StepOut(torch.zeros(1), torch.ones(1, dtype=torch.long), [1])

    def evaluate(self, under=None) -> list[Evaluation]:
        return [Evaluation(float(self.now >= self.at), 1.0)]

    def drop(self, rows: list[int]) -> None:
        pass


def test_a_crossing_at_step_7_reads_7_and_its_evaluations_are_charged():
    result = run(Planted(7), 1, budget=100, eval_every=10, dense=50, charge_evals=True)[0]
    assert result.steps_to_threshold == 7 and result.evals_to_threshold == 7
    assert [p["step"] for p in result.curve] == list(range(1, 8))
    assert (result.flops_per_step, result.flops_per_eval) == (100, 40)
    sparse = run(Planted(7), 1, budget=100, eval_every=10)[0]
    assert sparse.steps_to_threshold == 10 and sparse.flops_per_eval == 0   # the old rule: free, seen at 10


def test_after_the_dense_steps_the_cadence_thins_and_the_last_step_is_evaluated():
    result = run(Planted(10 ** 9), 1, budget=83, eval_every=10, dense=20, charge_evals=True)[0]
    assert [p["step"] for p in result.curve] == list(range(1, 21)) + [30, 40, 50, 60, 70, 80, 83]
    assert result.evals_run == Cadence(10, 20).through(83) == 27


def test_the_charged_cap_covers_steps_and_evaluations():
    result = run(Planted(10 ** 9), 1, budget=300, eval_every=10, dense=50, charge_evals=True,
                 max_flops=100 * 60 + 40 * 51)[0]
    assert result.steps_cap == result.steps_run == 60   # 60 steps and 51 evaluations fit exactly
    uncharged = run(Planted(10 ** 9, eval_flops=0), 1, budget=300, eval_every=10, max_flops=100 * 60 + 40 * 51)[0]
    assert uncharged.steps_cap == 80   # the old rule: a select pass of a network with logits rides free


class Flat(Planted):
    def evaluate(self, under=None) -> list[Evaluation]:
        return [Evaluation(0.3, 1.0)]


def test_with_dense_evaluations_patience_counts_spans_of_steps_not_evaluations():
    dense = run(Flat(0), 1, budget=300, eval_every=10, dense=50, patience=5)[0]
    sparse = run(Flat(0), 1, budget=300, eval_every=10, patience=5)[0]
    assert dense.stopped == sparse.stopped == "plateau"
    assert dense.steps_run == sparse.steps_run == 60


def test_a_records_flops_are_its_steps_and_its_evaluations_counted_by_torch():
    pair = get_recipe("onehot-quad").pair
    settings = RunSettings(task=TASK, seed=1, budget=200, eval_dense=30, charge_evals=True, threshold=0.9)
    record = evaluate(pair, settings)
    assert record["steps_to_threshold"] is not None
    prep = prepare(pair, TASK, 1, torch.device("cpu"))
    assert record["flops_per_eval"] == predict_flops(prep.model, prep.data.x_select) > 0
    evals = sum(p["step"] <= record["steps_to_threshold"] for p in record["curve"])
    assert record["flops_to_threshold"] == record["steps_to_threshold"] * record["flops_per_step"] \
        + evals * record["flops_per_eval"]
    assert run_flops(record) == record["steps_run"] * record["flops_per_step"] \
        + len(record["curve"]) * record["flops_per_eval"]
    assert cap_flops(record) >= run_flops(record) or record["steps_run"] > record["steps_cap"]
    free = evaluate(pair, dataclasses.replace(settings, charge_evals=False))
    assert "flops_per_eval" not in free and free["steps_to_threshold"] == record["steps_to_threshold"]


def test_a_dense_charged_run_goes_on_from_a_carry_as_one_run():
    pair = get_recipe("onehot-mlp").pair
    pair = dataclasses.replace(pair, brain=dataclasses.replace(pair.brain, batch_size=64, hidden=(32,)))
    options = {"seed": 1, "eval_every": 10, "dense": 25, "charge_evals": True, "threshold": 1.01}

    def fresh():
        prep = prepare(pair, TASK, 1, torch.device("cpu"))
        return prep.model, prep.data
    model, data = fresh()
    first = train(model, data, pair.brain, budget=23, keep=True, **options)
    assert first.carry is not None and first.carry.step == 23    # inside the dense steps
    model, data = fresh()
    on = train(model, data, pair.brain, budget=60, start=first.carry, **options)
    model, data = fresh()
    direct = train(model, data, pair.brain, budget=60, **options)
    clocks = ("seconds", "seconds_to_threshold", "eval_seconds", "carry")
    figures = [{k: v for k, v in dataclasses.asdict(r).items() if k not in clocks} for r in (on, direct)]
    assert figures[0] == figures[1] and direct.evals_run == 25 + 4


def sparse_oracle(curve_steps: list[int], every: int, upto: int | None = None) -> int:
    """The evaluations sparse charging bills, by its definition: those on multiples of
    `every`, and the run's last (or, up to a crossing `upto`, the crossing's own)."""
    end = curve_steps[-1] if upto is None else upto
    return sum(s <= end and (s % every == 0 or s == end) for s in curve_steps)


@pytest.mark.parametrize("at", [3, 7, 10, 23, 48])
def test_sparse_charging_bills_only_the_reads_the_sparse_cadence_would_make(at):
    result = run(Planted(at), 1, budget=100, eval_every=10, dense=50, charge_evals=True, dense_locates=True)[0]
    steps = [p["step"] for p in result.curve]
    # still read at every step; a read under the threshold off the grid is not kept
    assert result.steps_to_threshold == at and steps == sorted({*range(10, at + 1, 10), at})
    assert result.evals_to_threshold == sparse_oracle(steps, 10, at) == Cadence(10).through(at)
    dense = run(Planted(at), 1, budget=100, eval_every=10, dense=50, charge_evals=True)[0]
    assert dense.evals_to_threshold == at and [p["step"] for p in dense.curve] == list(range(1, at + 1))
    assert [p["select_acc"] for p in dense.curve if p["step"] in steps] == [p["select_acc"] for p in result.curve]


def test_the_sparse_charged_cap_counts_only_the_sparse_reads():
    fits = 100 * 60 + 40 * 6         # 60 steps and the reads at 10, 20, ..., 60
    result = run(Planted(10 ** 9), 1, budget=300, eval_every=10, dense=50, charge_evals=True, dense_locates=True,
                 max_flops=fits)[0]
    assert result.steps_cap == result.steps_run == 60
    dense = run(Planted(10 ** 9), 1, budget=300, eval_every=10, dense=50, charge_evals=True, max_flops=fits)[0]
    assert dense.steps_cap < 60     # every dense read billed: fewer steps fit


def test_a_sparse_charged_records_flops_match_the_oracle():
    pair = get_recipe("onehot-quad").pair
    settings = RunSettings(task=TASK, seed=1, budget=200, eval_dense=30, charge_evals=True, dense_locates=True,
                           threshold=0.9, hold=1.0)
    record = evaluate(pair, settings)
    assert record["dense_locates"] and record["steps_to_threshold"] is not None
    steps = [p["step"] for p in record["curve"]]
    assert record["flops_to_threshold"] == record["steps_to_threshold"] * record["flops_per_step"] \
        + sparse_oracle(steps, 10, record["steps_to_threshold"]) * record["flops_per_eval"]
    assert run_flops(record) == record["steps_run"] * record["flops_per_step"] \
        + sparse_oracle(steps, 10) * record["flops_per_eval"]
    assert cap_flops(record) == record["steps_cap"] * record["flops_per_step"] \
        + Cadence(10).through(record["steps_cap"]) * record["flops_per_eval"]
    dense = evaluate(pair, dataclasses.replace(settings, dense_locates=False))
    assert dense["flops_to_threshold"] > record["flops_to_threshold"]
    assert dense["steps_to_threshold"] == record["steps_to_threshold"] and dense["steps_run"] == record["steps_run"]
    kept = {p["step"]: p["select_acc"] for p in record["curve"]}
    assert kept == {p["step"]: p["select_acc"] for p in dense["curve"] if p["step"] in kept}


def test_dense_reads_that_only_locate_leave_misses_ranked_as_without_them():
    from evo.records import credited_select
    curve = [{"step": s, "select_acc": 0.3 if s == 7 else 0.05} for s in range(1, 51)] + \
        [{"step": 60, "select_acc": 0.06}, {"step": 64, "select_acc": 0.04}]
    record = {"curve": curve, "eval_every": 10, "eval_dense": 50}
    assert credited_select(record) == 0.3
    assert credited_select({**record, "dense_locates": True}) == 0.06   # the grid and the last
