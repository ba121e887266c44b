"""The rank of the right answer (brains.losses.outranked): a select-side progress figure in
every curve point, checked against a slow oracle."""
import torch

from brains.gene import BrainGene
from brains.losses import outranked
from encoders.gene import EncoderGene
from evo.execution.evaluate import evaluate, evaluate_group
from evo.pair import Pair
from evo.settings import RunSettings
from evo.tasks import TaskSpec


def test_outranked_against_a_loop():
    torch.manual_seed(0)
    out = torch.randint(0, 4, (3, 50, 7)).float()   # many ties: each counts one half
    out[0, 3, 2] = float("nan")                     # a score that is not a number: the worst rank
    y = torch.randint(0, 7, (3, 50))
    got = outranked(out, y)
    for m in range(3):
        for r in range(50):
            row, right = out[m, r].tolist(), float(out[m, r, y[m, r]])
            expected = 6 if any(v != v for v in row) else \
                sum(v > right for v in row) + 0.5 * (sum(v == right for v in row) - 1)
            assert got[m, r] == expected


def test_a_constant_network_ranks_at_chance():
    out, y = torch.zeros(20, 11), torch.randint(0, 11, (20,))
    assert (outranked(out, y) / 10 == 0.5).all()


def test_measure_ranks_against_the_oracle():
    from brains.losses import measure
    torch.manual_seed(1)
    model = torch.nn.Linear(5, 7)
    x, y = torch.randn(40, 5), torch.randint(0, 7, (40,))
    out = model(x)
    expected = sum(float((out[r] > out[r, y[r]]).sum()) + 0.5 * (float((out[r] == out[r, y[r]]).sum()) - 1)
                   for r in range(40)) / 40 / 6
    acc, loss, rank = measure(model, x, y, torch.nn.functional.cross_entropy, rank=True)
    assert abs(rank - expected) < 1e-9 and measure(model, x, y, torch.nn.functional.cross_entropy) == (acc, loss)


def test_curves_carry_the_rank_lone_and_batched():
    pair = Pair(EncoderGene(family="random", dim=16, code_seed=1), BrainGene(hidden=(24,), lr=1e-2))
    settings = RunSettings(task=TaskSpec(p=11, train_frac=0.6), budget=40)
    alone = evaluate(pair, settings)
    grouped = evaluate_group([pair], [settings])[0]
    assert all(0 <= p["select_rank"] <= 1 for p in alone["curve"])
    for a, g in zip(alone["curve"], grouped["curve"]):
        assert abs(a["select_rank"] - g["select_rank"]) < 0.02


def test_progress_ranks_misses_by_the_rank_of_the_right_answer():
    """Under --rank-misses progress two misses at the same accuracy (chance) are told apart
    by their rank; a reached pair still beats both; records without ranks fall back."""
    from evo.search.scoring import cost, objectives

    def miss(rank):
        curve = [{"step": 10, "select_acc": 0.01, "select_rank": 0.5},
                 {"step": 20, "select_acc": 0.01, "select_rank": rank}]
        return {"threshold": 0.99, "steps_to_threshold": None, "diverged": False, "curve": curve,
                "steps_cap": 20, "flops_per_step": 10, "budget": 20, "max_flops": 1e6, "params": 100}
    near, far = miss(0.1), miss(0.45)
    assert cost(near, "flops") == cost(far, "flops")                     # accuracy cannot tell them apart
    assert cost(near, "flops", progress=True) < cost(far, "flops", progress=True)
    assert cost(near, "flops", progress=True) == 1e6 * 10 ** 0.2
    assert objectives(near, "flops", "progress")[1] == objectives(far, "flops", "progress")[1]   # worst size
    won = {**near, "steps_to_threshold": 20, "flops_to_threshold": 200, "seconds_to_threshold": 0.1}
    assert objectives(won, "flops", "progress") < objectives(near, "flops", "progress")
    old = {**near, "curve": [{k: v for k, v in p.items() if k != "select_rank"} for p in near["curve"]]}
    assert cost(old, "flops", progress=True) == cost(old, "flops")
