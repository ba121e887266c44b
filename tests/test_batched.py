"""A member trained in a batched group gets the figures it gets trained alone."""
import dataclasses

import pytest

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.execution.evaluate import evaluate, evaluate_group
from evo.pair import Pair
from evo.tasks import TaskSpec
from evo.settings import Job, RunSettings

TASK = TaskSpec(p=11, train_frac=0.6)


def members(brain: BrainGene) -> list[tuple[Pair, TaskSpec, int]]:
    """Four pairs of one shape: other codes of equal width, other per-member settings."""
    encoders = [EncoderGene(family="random", dim=16, code_seed=1), EncoderGene(family="cyclic", dim=16),
                EncoderGene(family="random", dim=16, code_seed=2), EncoderGene(family="scalar", dim=16)]
    tweaks = [{}, {"lr": brain.lr * 3, "weight_decay": 0.1}, {"beta1": 0.8, "momentum": 0.5},
              {"lr": brain.lr / 2, "init_scale": 0.5}]
    return [(Pair(e, dataclasses.replace(brain, **t)), RunSettings(task=TASK, seed=seed, budget=60))
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
    together = evaluate_group([p for p, _ in jobs], [s for _, s in jobs], report_holdout=True)
    assert [r["group_size"] for r in together] == [4, 4, 4, 4]
    for (pair, settings), grouped in zip(jobs, together):
        alone = evaluate(pair, settings, report_holdout=True)
        assert grouped["steps_run"] == alone["steps_run"] and grouped["stopped"] == alone["stopped"]
        assert grouped["params"] == alone["params"] and grouped["flops_per_step"] == alone["flops_per_step"]
        assert len(grouped["curve"]) == len(alone["curve"])
        for g, a in zip(grouped["curve"], alone["curve"]):
            assert g["step"] == a["step"]
            assert g["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3, abs=1e-5)
            assert g["select_loss"] == pytest.approx(a["select_loss"], rel=1e-3, abs=1e-5)
            assert abs(g["select_acc"] - a["select_acc"]) <= 0.03
        assert abs(grouped["holdout_acc"] - alone["holdout_acc"]) <= 0.03


@pytest.mark.slow
def test_members_stop_on_their_own():
    """One member reaches the threshold early, the others run on; each is recorded as such."""
    fast = Pair(EncoderGene(), BrainGene(hidden=(64,), activation="quadratic", bias=False, loss="mse",
                                         lr=1e-2, warmup=0))
    slow = Pair(EncoderGene(), dataclasses.replace(fast.brain, lr=1e-5))
    task = TaskSpec(p=23, train_frac=0.7)
    settings = RunSettings(task=task, budget=300)
    records = evaluate_group([fast, slow, fast], [settings, settings, settings.with_seed(1)])
    assert records[0]["stopped"] == "threshold" and records[2]["stopped"] == "threshold"
    assert records[1]["stopped"] == "budget" and records[1]["steps_run"] == 300
    alone = evaluate(fast, RunSettings(task=task, seed=0, budget=300, eval_every=10))
    assert records[0]["steps_to_threshold"] == alone["steps_to_threshold"]


def test_transformers_and_odd_shapes_train_alone():
    tf = Pair(EncoderGene(), BrainGene(family="transformer", n_layers=1, d_model=16, n_heads=2, d_mlp=16))
    mlp = Pair(EncoderGene(), BrainGene(hidden=(8,)))
    settings = RunSettings(task=TASK, budget=10)
    records = evaluate_group([tf, tf, mlp], [settings, settings.with_seed(1), settings])
    assert [r["group_size"] for r in records] == [1, 1, 1]


def test_scorer_groups_same_shape_jobs():
    """With batched on, the scorer trains same-shape jobs as one group (the records say so),
    leaves other shapes alone, keeps job order, and gets the lone runs' figures."""
    from evo.search.config import RunConfig
    from evo.execution.parallel import Scorer, plan_groups
    config = RunConfig(p=11, train_frac=0.6, budget=40, workers=1)
    pairs = [pair for pair, _ in members(BRAINS[0])]
    odd = Pair(EncoderGene(family="random", dim=8), BRAINS[0])           # another input width
    tf = Pair(EncoderGene(), BrainGene(family="transformer", n_layers=1, d_model=16, n_heads=2, d_mlp=16))
    jobs = [Job(p, config.run_settings()) for p in (pairs[0], odd, *pairs[1:], tf)]
    assert plan_groups(jobs, True) == [[0, 2, 3, 4], [1], [5]]
    assert plan_groups(jobs, False) == [[i] for i in range(6)]
    with Scorer(1, batched=True) as scorer:
        seen: list[int] = []
        grouped = scorer.map(jobs, lambda i, r: seen.append(i))
    with Scorer(1) as scorer:
        alone = scorer.map(jobs)
    assert sorted(seen) == list(range(6))
    assert [r["group_size"] for r in grouped] == [4, 1, 4, 4, 4, 1]
    assert [r["brain"] for r in grouped] == [r["brain"] for r in alone]
    for g, a in zip(grouped, alone):
        assert g["steps_run"] == a["steps_run"] and g["params"] == a["params"]
        assert g["select_loss"] == pytest.approx(a["select_loss"], rel=1e-3, abs=1e-5)


def test_batched_run_keys_differ_from_unbatched():
    """A batched run's figures are not bit for bit a lone run's: its cache keys say batched."""
    from evo.search.config import RunConfig
    assert "batched" not in RunConfig(p=11).run_settings().to_dict()
    assert RunConfig(p=11, batched=True).run_settings().to_dict()["batched"] is True


def test_a_group_of_mixed_shapes_is_refused():
    """train_group used member 0's batch size, warm-up, optimizer and loss for every member:
    a group of two shapes would train wrong without a word."""
    from brains.batched import Member, train_group
    from evo.execution.evaluate import prepare

    a = Pair(EncoderGene(), BrainGene(hidden=(8,)))
    b = Pair(EncoderGene(), BrainGene(hidden=(8,), batch_size=32))
    preps = [prepare(pair, TASK, 0, "cpu") for pair in (a, b)]
    with pytest.raises(ValueError, match="shapes"):
        train_group([Member(p.model, p.pair.brain, p.data, 0) for p in preps], budget=5)
