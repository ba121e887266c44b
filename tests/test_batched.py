"""A member trained in a batched group gets the figures it gets trained alone."""
import dataclasses

import pytest

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.evaluate import evaluate, evaluate_group
from evo.pair import Pair
from evo.tasks import TaskSpec

TASK = TaskSpec(p=11, train_frac=0.6)


def members(brain: BrainGene) -> list[tuple[Pair, TaskSpec, int]]:
    """Four pairs of one shape: other codes of equal width, other per-member settings."""
    encoders = [EncoderGene(family="random", dim=16, code_seed=1), EncoderGene(family="cyclic", dim=16),
                EncoderGene(family="random", dim=16, code_seed=2), EncoderGene(family="scalar", dim=16)]
    tweaks = [{}, {"lr": brain.lr * 3, "weight_decay": 0.1}, {"beta1": 0.8, "momentum": 0.5},
              {"lr": brain.lr / 2, "init_scale": 0.5}]
    return [(Pair(e, dataclasses.replace(brain, **t)), TASK, seed)
            for seed, (e, t) in enumerate(zip(encoders, tweaks))]


BRAINS = [
    BrainGene(hidden=(32,), lr=1e-2, weight_decay=1.0, warmup=5),
    BrainGene(hidden=(32, 16), activation="quadratic", bias=False, loss="mse", lr=3e-3, batch_size=32),
    BrainGene(hidden=(24,), optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-3, batch_size=16),
    BrainGene(hidden=(32,), lr=1e-2, grokfast_lambda=2.0, grokfast_alpha=0.9, grad_clip=0.5),
]


@pytest.mark.parametrize("brain", BRAINS)
def test_group_member_matches_alone(brain):
    jobs = members(brain)
    together = evaluate_group(jobs, budget=60, eval_every=10, report_holdout=True)
    assert [r["group_size"] for r in together] == [4, 4, 4, 4]
    for (pair, task, seed), grouped in zip(jobs, together):
        alone = evaluate(pair, task, seed=seed, budget=60, eval_every=10, report_holdout=True)
        assert grouped["steps_run"] == alone["steps_run"] and grouped["stopped"] == alone["stopped"]
        assert grouped["params"] == alone["params"] and grouped["flops_per_step"] == alone["flops_per_step"]
        assert len(grouped["curve"]) == len(alone["curve"])
        for g, a in zip(grouped["curve"], alone["curve"]):
            assert g["step"] == a["step"]
            assert g["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3, abs=1e-5)
            assert g["select_loss"] == pytest.approx(a["select_loss"], rel=1e-3, abs=1e-5)
            assert abs(g["select_acc"] - a["select_acc"]) <= 0.03
        assert abs(grouped["holdout_acc"] - alone["holdout_acc"]) <= 0.03


def test_members_stop_on_their_own():
    """One member reaches the threshold early, the others run on; each is recorded as such."""
    fast = Pair(EncoderGene(), BrainGene(hidden=(64,), activation="quadratic", bias=False, loss="mse",
                                         lr=1e-2, warmup=0))
    slow = Pair(EncoderGene(), dataclasses.replace(fast.brain, lr=1e-5))
    task = TaskSpec(p=23, train_frac=0.7)
    jobs = [(fast, task, 0), (slow, task, 0), (fast, task, 1)]
    records = evaluate_group(jobs, budget=300, eval_every=10)
    assert records[0]["stopped"] == "threshold" and records[2]["stopped"] == "threshold"
    assert records[1]["stopped"] == "budget" and records[1]["steps_run"] == 300
    alone = evaluate(fast, task, seed=0, budget=300, eval_every=10)
    assert records[0]["steps_to_threshold"] == alone["steps_to_threshold"]


def test_transformers_and_odd_shapes_train_alone():
    tf = Pair(EncoderGene(), BrainGene(family="transformer", n_layers=1, d_model=16, n_heads=2, d_mlp=16))
    mlp = Pair(EncoderGene(), BrainGene(hidden=(8,)))
    records = evaluate_group([(tf, TASK, 0), (tf, TASK, 1), (mlp, TASK, 0)], budget=10)
    assert [r["group_size"] for r in records] == [1, 1, 1]
