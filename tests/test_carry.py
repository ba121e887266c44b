"""Carrying a run up the rungs: going on from a run's state at its step cap gives the
figures of one run to the larger cap (the oracle: that single run, trained here), for every
part of the state a step reads (minibatch order mid-epoch, optimizer moments, warm-up,
Grokfast filters, the norm held, forward-forward negatives, transformers), under a FLOP cap
that is not a whole number of evaluations, and inside a hold window."""
import dataclasses

import pytest
import torch

from brains.gene import BrainGene
from brains.loop import Batches
from brains.train import train
from evo.execution.evaluate import prepare
from evo.pair import Pair
from evo.recipes import get_recipe
from evo.tasks import TaskSpec

TASK = TaskSpec(op="add", p=23, train_frac=0.6)
CLOCKS = ("seconds", "seconds_to_threshold", "eval_seconds", "carry")


def figures(result):
    return {k: v for k, v in dataclasses.asdict(result).items() if k not in CLOCKS}


def fresh(pair: Pair, seed: int = 1):
    prep = prepare(pair, TASK, seed, torch.device("cpu"))
    return prep.model, prep.data


def carried_and_direct(pair: Pair, low: int, high: int, seed: int = 1, **options):
    """(the low run, the run that goes on from it to `high`, the direct run to `high`)."""
    model, data = fresh(pair, seed)
    first = train(model, data, pair.brain, seed=seed, budget=low, keep=True, **options)
    model, data = fresh(pair, seed)
    on = train(model, data, pair.brain, seed=seed, budget=high, start=first.carry, **options)
    model, data = fresh(pair, seed)
    direct = train(model, data, pair.brain, seed=seed, budget=high, **options)
    return first, on, direct


def variant(recipe: str, **brain) -> Pair:
    pair = get_recipe(recipe).pair
    return Pair(pair.encoder, dataclasses.replace(pair.brain, **brain))


CASES = {
    "adamw minibatches mid-epoch": variant("onehot-mlp", batch_size=100, warmup=25, hidden=(32,)),
    "sgd momentum, grokfast ema, clip": variant("onehot-mlp", optimizer="sgd", lr=0.05, momentum=0.9,
                                                grokfast_lambda=2.0, grad_clip=1.0, batch_size=64,
                                                hidden=(32,)),
    "grokfast ma, orthograd, norm held": variant("onehot-mlp", grokfast_lambda=1.0, grokfast_filter="ma",
                                                 grokfast_window=7, orthograd=True, norm_constraint=True,
                                                 hidden=(32,)),
    "muon, egalitarian gradient": variant("onehot-mlp", muon=True, egalitarian=True,
                                          batch_size=64, hidden=(32, 16)),
    "forward-forward": variant("ff", hidden=(32, 32), batch_size=64),
    "transformer": variant("power", n_layers=1, d_model=16, n_heads=2, d_mlp=32, batch_size=64),
}


@pytest.mark.parametrize("name", list(CASES))
def test_going_on_from_a_carry_equals_one_run_to_the_larger_cap(name):
    first, on, direct = carried_and_direct(CASES[name], 30, 70, eval_every=10)
    assert first.stopped == "budget" and first.carry is not None and first.carry.step == 30
    assert on.steps_run == direct.steps_run == 70
    assert figures(on) == figures(direct)


def test_a_flop_cap_between_evaluations_carries_from_the_evaluation_below_it():
    pair = CASES["adamw minibatches mid-epoch"]
    model, data = fresh(pair)
    per_step = train(model, data, pair.brain, seed=1, budget=1).flops_per_step
    first, on, direct = carried_and_direct(pair, 40, 90, eval_every=10, max_flops=per_step * 35.5)
    assert first.steps_cap == 35 and first.carry.step == 30   # steps 31-35 train again
    assert figures(on) == figures(direct)


def test_a_crossing_inside_its_hold_window_is_carried_and_its_window_set_by_the_larger_cap():
    pair = get_recipe("onehot-quad").pair
    model, data = fresh(pair)
    crossing = train(model, data, pair.brain, seed=1, budget=300).steps_to_threshold
    assert crossing is not None and crossing < 200
    low = (crossing // 10 + 1) * 10    # the window (hold 2) runs past this cap
    first, on, direct = carried_and_direct(pair, low, 3 * low, eval_every=10, hold=2.0)
    assert first.carry is not None and first.carry.reached[0] == crossing
    assert figures(on) == figures(direct) and direct.steps_to_threshold == crossing


def test_a_hold_window_past_the_low_cap_is_carried_and_ends_where_a_direct_run_does():
    """hold_window: a crossing whose window (hold 1: twice the crossing) runs past the low cap
    is carried from the cap, and going on ends at the window's end, as the direct run does;
    a run whose window closed below the cap is over and carries nothing."""
    pair = get_recipe("onehot-quad").pair
    model, data = fresh(pair)
    crossing = train(model, data, pair.brain, seed=1, budget=300).steps_to_threshold
    assert crossing is not None and crossing < 200
    low = (crossing // 10 + 1) * 10
    first, on, direct = carried_and_direct(pair, low, 3 * low + 50, eval_every=10, hold=1.0, hold_window=True)
    assert first.carry is not None and first.carry.reached[0] == crossing
    assert figures(on) == figures(direct) and direct.steps_run == 2 * crossing < 3 * low + 50
    model, data = fresh(pair)
    closed = train(model, data, pair.brain, seed=1, budget=2 * crossing + 10, hold=1.0, hold_window=True, keep=True)
    assert closed.steps_run == 2 * crossing and closed.carry is None


def test_runs_that_would_stop_anyway_carry_nothing():
    quad = get_recipe("onehot-quad").pair
    model, data = fresh(quad)
    assert train(model, data, quad.brain, seed=1, budget=300, keep=True).carry is None   # threshold, no hold
    slow = variant("onehot-mlp", lr=1e-5, hidden=(8,))
    model, data = fresh(slow)
    plateau = train(model, data, slow.brain, seed=1, budget=200, patience=2, keep=True)
    assert plateau.stopped == "plateau" and plateau.carry is None
    blown = variant("onehot-mlp", optimizer="sgd", lr=1.0, momentum=0.99, loss="mse", init_scale=10.0)
    model, data = fresh(blown)
    assert train(model, data, blown.brain, seed=1, budget=200, keep=True).carry is None


def test_a_carry_cannot_go_on_under_a_smaller_cap():
    pair = CASES["adamw minibatches mid-epoch"]
    model, data = fresh(pair)
    first = train(model, data, pair.brain, seed=1, budget=40, keep=True)
    model, data = fresh(pair)
    with pytest.raises(ValueError, match="cannot go on"):
        train(model, data, pair.brain, seed=1, budget=30, start=first.carry)


def test_minibatch_order_resumes_mid_epoch_as_the_uninterrupted_order():
    whole = Batches(10, 3, torch.Generator().manual_seed(4), torch.device("cpu"))
    expected = [next(whole).tolist() for _ in range(8)]
    head = Batches(10, 3, torch.Generator().manual_seed(4), torch.device("cpu"))
    got = [next(head).tolist() for _ in range(4)]
    tail = Batches(10, 3, torch.Generator().manual_seed(99), torch.device("cpu"))
    tail.load(head.state())
    got += [next(tail).tolist() for _ in range(4)]
    assert got == expected
    assert all(len(batch) == 3 for batch in expected)   # the short remainder of an epoch is skipped
