"""Dense reads that only locate a crossing (dense_locates) and fall under the threshold are
not kept, and the lone trainer stops reading them once they are surely under
(brains.losses.surely_below). The oracle is the same run with every read kept: a report's
`extra` (here a no-op) turns the shortcut off. Every decision must be the same: where the
run stops and why, its crossing, its lost crossings, its carry; and every kept point's
select figures must equal the full run's at that step."""
import dataclasses
import math

import pytest
import torch

from brains.losses import fewest_right, surely_below
from brains.train import train
from evo.execution.evaluate import prepare
from evo.recipes import get_recipe
from evo.tasks import TaskSpec

TASK = TaskSpec(p=23, train_frac=0.6)


def test_fewest_right_matches_a_count_of_every_case():
    for n in (1, 7, 100, 2352, 4704):
        for threshold in (0.0, 0.5, 0.9, 0.99, 0.999, 1.0):
            assert fewest_right(n, threshold) == next((c for c in range(n + 1) if c / n >= threshold), n + 1)


def test_surely_below_is_never_wrong_and_finds_out_poor_models():
    torch.manual_seed(0)
    for trial in range(200):
        n = int(torch.randint(50, 3000, ()).item())
        y = torch.randint(0, 5, (n,))
        right = torch.rand(n) < torch.rand(()).item() ** 0.1   # accuracies from 0 to 1, most near 1
        guess = torch.where(right, y, (y + 1) % 5)

        def model(x, guess=guess):   # the rows' answers as one-hot logits, read by index
            return torch.nn.functional.one_hot(guess[x.long()], 5).float()
        x = torch.arange(n).float()
        acc = float(right.float().mean())
        below = surely_below(model, x, y, 0.99)
        assert not below or acc < 0.99
        if acc < 0.6:
            assert below


def full_and_located(recipe, **options):
    pair = get_recipe(recipe).pair
    runs = []
    for extra in (lambda i: {}, None):   # extra set: every read kept, as before the shortcut
        prep = prepare(pair, TASK, 1, torch.device("cpu"))
        runs.append(train(prep.model, prep.data, pair.brain, seed=1, eval_every=10, dense=50,
                          charge_evals=True, dense_locates=True, extra=extra, **options))
    return runs


DECISIONS = ("steps_to_threshold", "steps_run", "steps_cap", "stopped", "diverged", "crossings_lost",
             "evals_to_threshold", "select_acc", "select_loss", "flops_per_step", "flops_per_eval")


@pytest.mark.parametrize("recipe,options,outcome", [
    ("onehot-quad", {"budget": 100, "threshold": 0.05, "hold": 1.0}, ("threshold", 31, 1)),   # one lost
    ("grokfast", {"budget": 100, "threshold": 0.3, "hold": 1.0}, ("threshold", 46, 0)),
    ("onehot-quad", {"budget": 100, "threshold": 0.1}, ("threshold", 39, 0)),                # no hold
    ("onehot-mlp", {"budget": 90, "threshold": 0.99, "patience": 2}, ("plateau", None, 0)),
    ("onehot-quad", {"budget": 120, "threshold": 0.9, "give_up": 35, "give_up_in": "steps"}, ("beaten", None, 0)),
    ("gromov", {"budget": 80, "threshold": 0.8, "keep": True, "max_flops": 3e8}, ("budget", None, 0)),  # carry at 5
])
def test_unkept_reads_change_no_decision(recipe, options, outcome):
    full, located = full_and_located(recipe, **options)
    assert (full.stopped, full.steps_to_threshold, full.crossings_lost) == outcome
    for name in DECISIONS:
        a, b = getattr(full, name), getattr(located, name)
        assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)), name
    assert (full.carry is None) == (located.carry is None)
    if full.carry is not None:
        assert full.carry.step == located.carry.step and full.carry.state == located.carry.state
    kept = {p["step"]: (p["select_acc"], p["select_loss"]) for p in located.curve}
    assert kept == {p["step"]: (p["select_acc"], p["select_loss"]) for p in full.curve if p["step"] in kept}
    for p in full.curve:   # what goes: reads off the grid, under the threshold, outside a hold
        if p["step"] not in kept:
            assert p["step"] % 10 and p["select_acc"] < options["threshold"]
    assert len(located.curve) < len(full.curve) or full.steps_run <= 10
