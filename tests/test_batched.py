"""A member trained in a batched group gets the figures it gets trained alone."""
import dataclasses

import pytest

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.execution.evaluate import batch_key, evaluate, evaluate_group
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


def test_scorer_groups_jobs_of_one_cell():
    """In a batched run the scorer trains jobs of one cell as one group (the records say so),
    leaves other cells and families alone, keeps job order, cuts a group so that every
    worker gets work, and gets the lone runs' figures."""
    from evo.search.config import RunConfig
    from evo.execution.parallel import Scorer, plan_groups
    pairs = [pair for pair, _ in members(BRAINS[0])]
    odd = Pair(EncoderGene(family="random", dim=64), BRAINS[0])          # an input width of another cell
    tf = Pair(EncoderGene(), BrainGene(family="transformer", n_layers=1, d_model=16, n_heads=2, d_mlp=16))
    batched = RunConfig(p=11, train_frac=0.6, budget=40, workers=1, batched=True).run_settings()
    jobs = [Job(p, batched) for p in (pairs[0], odd, *pairs[1:], tf)]
    assert sorted(plan_groups(jobs, 1)) == [[0, 2, 3, 4], [1], [5]]
    assert sorted(plan_groups(jobs, 2)) == [[0, 2, 3], [1], [4], [5]]
    lone = [Job(p, dataclasses.replace(batched, batched=False)) for p in (pairs[0], odd, *pairs[1:], tf)]
    assert sorted(plan_groups(lone, 1)) == [[i] for i in range(6)]
    with Scorer(1) as scorer:
        seen: list[int] = []
        grouped = scorer.map(jobs, lambda i, r: seen.append(i))
        alone = scorer.map(lone)
    assert sorted(seen) == list(range(6))
    assert [r["group_size"] for r in grouped] == [4, 1, 4, 4, 4, 1]
    assert [r["brain"] for r in grouped] == [r["brain"] for r in alone]
    for g, a in zip(grouped, alone):
        assert g["steps_run"] == a["steps_run"] and g["params"] == a["params"]
        assert g["select_loss"] == pytest.approx(a["select_loss"], rel=1e-3, abs=1e-5)


def test_costliest_work_goes_first():
    """Longest first, by the genes' FLOP estimate: a wide full-batch net before a narrow
    minibatch one, so that a generation does not end waiting on a long run that began last."""
    from evo.execution.evaluate import work_estimate
    from evo.execution.parallel import plan_groups
    settings = RunSettings(task=TASK, budget=40)
    small = Pair(EncoderGene(), BrainGene(hidden=(8,), batch_size=16))
    big = Pair(EncoderGene(), BrainGene(hidden=(256, 256)))
    assert work_estimate(big, settings) > 10 * work_estimate(small, settings) > 0
    assert plan_groups([Job(small, settings), Job(big, settings), Job(small, settings.with_seed(1))], 2)[0] == [1]
    capped = dataclasses.replace(settings, max_flops=1e6)
    assert work_estimate(big, capped) == pytest.approx(1e6, rel=0.01)


def test_batched_run_keys_differ_from_unbatched():
    """A batched run's figures are not bit for bit a lone run's: its cache keys say batched."""
    from evo.search.config import RunConfig
    assert "batched" not in RunConfig(p=11).run_settings().to_dict()
    assert RunConfig(p=11, batched=True).run_settings().to_dict()["batched"] is True


def test_a_group_of_two_keys_is_refused():
    """A group shares depth, activation, loss, update rule and padded cell: a group of two
    keys would train one member with the other's computation."""
    from brains.batched import Member, train_group
    from evo.execution.evaluate import prepare

    a = Pair(EncoderGene(), BrainGene(hidden=(8,)))
    b = Pair(EncoderGene(), BrainGene(hidden=(8, 8)))
    preps = [prepare(pair, TASK, 0, "cpu") for pair in (a, b)]
    with pytest.raises(ValueError, match="group keys"):
        train_group([Member(p.model, p.pair.brain, p.data, 0) for p in preps], budget=5)


# One cell of the grid, nine shapes and recipes: widths 17-24 and inputs 18-24 pad to 24,
# batch rows 17-24 pad to 24 (of 72 training rows), AdamW and Adam, with and without
# biases, each gradient rule on for some members and off for others.
MIXED = [
    (EncoderGene(family="random", dim=12, code_seed=1), BrainGene(hidden=(24, 17), lr=1e-2, batch_size=24)),
    (EncoderGene(family="random", dim=9, code_seed=2), BrainGene(hidden=(20, 24), lr=3e-3, batch_size=17,
                                                                 bias=False, optimizer="adam", weight_decay=1e-3)),
    (EncoderGene(family="cyclic", dim=10), BrainGene(hidden=(17, 20), lr=1e-2, batch_size=20, grad_clip=0.3,
                                                     warmup=1)),
    (EncoderGene(family="random", dim=11, code_seed=3), BrainGene(hidden=(24, 24), lr=5e-3, batch_size=24,
                                                                  grokfast_lambda=2.0, grokfast_alpha=0.9)),
    (EncoderGene(family="random", dim=12, code_seed=4), BrainGene(hidden=(19, 22), lr=1e-2, batch_size=22,
                                                                  orthograd=True, init_scale=0.7)),
    (EncoderGene(family="random", dim=10, code_seed=5), BrainGene(hidden=(24, 18), lr=1e-2, batch_size=18,
                                                                  norm_constraint=True, weight_decay=0.0)),
]


def mixed_jobs(**rules) -> list[tuple[Pair, RunSettings]]:
    return [(Pair(e, b), RunSettings(task=TASK, seed=seed, budget=40, **rules)) for seed, (e, b) in enumerate(MIXED)]


@pytest.mark.parametrize("rules", [{}, {"eval_dense": 15, "charge_evals": True, "max_flops": 2e7}])
def test_mixed_shapes_share_one_group_and_match_their_lone_runs(rules):
    """Members of other widths, inputs, batch sizes and rules in one padded group each get
    their lone run's figures and their own network's FLOP count, not the padding's (each
    select pass charged and evaluated densely at first, too)."""
    jobs = mixed_jobs(**rules)
    keys = {batch_key(pair, settings) for pair, settings in jobs}
    assert len(keys) == 1 and None not in keys
    together = evaluate_group([p for p, _ in jobs], [s for _, s in jobs], report_holdout=True)
    assert {r["group_size"] for r in together} == {len(jobs)}
    for (pair, settings), grouped in zip(jobs, together):
        alone = evaluate(pair, settings, report_holdout=True)
        assert grouped["steps_run"] == alone["steps_run"] and grouped["stopped"] == alone["stopped"]
        assert grouped["params"] == alone["params"] and grouped["flops_per_step"] == alone["flops_per_step"]
        assert grouped.get("flops_per_eval") == alone.get("flops_per_eval") and grouped["steps_cap"] == alone["steps_cap"]
        assert [g["step"] for g in grouped["curve"]] == [a["step"] for a in alone["curve"]]
        for g, a in zip(grouped["curve"], alone["curve"]):
            assert g["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3, abs=1e-5)
            assert g["select_loss"] == pytest.approx(a["select_loss"], rel=1e-3, abs=1e-5)
            assert abs(g["select_acc"] - a["select_acc"]) <= 0.03
        assert abs(grouped["holdout_acc"] - alone["holdout_acc"]) <= 0.03


def test_padding_stays_zero_and_gets_no_gradient():
    """Every padded weight and bias (and the biases of members without them) is exactly
    zero after every step, and its gradient is exactly zero."""
    import torch
    from brains.batched import Group, Member
    from evo.execution.evaluate import prepare

    jobs = mixed_jobs()
    preps = [prepare(pair, TASK, s.seed, torch.device("cpu")) for pair, s in jobs]
    group = Group([Member(p.model, p.pair.brain, p.data, s.seed) for p, (_, s) in zip(preps, jobs)])
    real = []   # each member's real block of every stacked tensor, as a mask
    for row, prep in enumerate(preps):
        masks = []
        for layer, linear in enumerate(l for l in prep.model.net if isinstance(l, torch.nn.Linear)):
            w = torch.zeros(group.params[2 * layer].shape[1:], dtype=torch.bool)
            w[:linear.weight.shape[0], :linear.weight.shape[1]] = True
            b = torch.zeros(group.params[2 * layer + 1].shape[1:], dtype=torch.bool)
            if linear.bias is not None:
                b[:linear.bias.shape[0]] = True
            masks += [w, b]
        real.append(masks)
    assert any(not m.all() for masks in real for m in masks)   # there is padding to check
    for _ in range(25):
        group.step()
        for row, masks in enumerate(real):
            for p, mask in zip(group.params, masks):
                assert (p[row][~mask] == 0).all() and (p.grad[row][~mask] == 0).all()
                assert not mask.any() or p[row][mask].abs().sum() > 0   # the real block trains


def test_a_members_figures_do_not_depend_on_its_group():
    """A member's cell comes from its own gene, so its record is the same bit for bit in a
    group of one and in a group of six: batching cannot make a search depend on --workers."""
    jobs = mixed_jobs()
    together = evaluate_group([p for p, _ in jobs], [s for _, s in jobs])
    for i in (0, 3):
        single = evaluate_group([jobs[i][0]], [jobs[i][1]])[0]
        assert single["group_size"] == 1
        assert together[i]["curve"] == single["curve"]


def test_grid_rounds_up():
    from brains.batched import GRID, bucket
    assert [bucket(n) for n in (1, 3, 17, 24, 25, 97, 4096, 4097)] == [1, 4, 24, 24, 32, 128, 4096, 8192]
    assert all(b / a <= 2 for a, b in zip(GRID, GRID[1:]))
