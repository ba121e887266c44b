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
    out = torch.randint(0, 4, (3, 50, 7)).float()   # many ties: only strictly higher scores count
    y = torch.randint(0, 7, (3, 50))
    got = outranked(out, y)
    for m in range(3):
        for r in range(50):
            assert got[m, r] == sum(float(out[m, r, c]) > float(out[m, r, y[m, r]]) for c in range(7))


def test_measure_ranks_against_the_oracle():
    from brains.losses import measure
    torch.manual_seed(1)
    model = torch.nn.Linear(5, 7)
    x, y = torch.randn(40, 5), torch.randint(0, 7, (40,))
    out = model(x)
    expected = sum(int((out[r] > out[r, y[r]]).sum()) for r in range(40)) / 40 / 6
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
