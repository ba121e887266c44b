"""One-pair training: it learns where it must, is deterministic, never crashes on
divergence, and never looks at holdout unless asked for the final report."""
import math

import pytest

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.recipes import RECIPES
from evo.tasks import TaskSpec, make_split
from evo.settings import RunSettings
from runs import spy_on_features

CONTRACT = {"task", "encoder", "brain", "seed", "steps_to_threshold", "seconds_to_threshold",
            "flops_to_threshold", "params", "train_acc", "select_acc", "holdout_acc",
            "holdout_acc_unseen_mirror", "diverged", "curve"}
TINY = Pair(EncoderGene(), BrainGene(hidden=(16,)))


@pytest.fixture(scope="module")
def grokked():
    """onehot-quad on p 23 trained once (1000 steps, holdout reported) for the two tests that
    read it: a holdout run trains on to the cap but keeps the first crossing's figures."""
    task = TaskSpec(p=23, train_frac=0.6)
    return evaluate(RECIPES["onehot-quad"].pair, RunSettings(task=task, seed=0, budget=1000, threshold=1.0),
                    report_holdout=True)


@pytest.mark.slow
def test_a_pair_that_must_generalize_does(grokked):
    record = grokked
    assert record["steps_to_threshold"] is not None
    assert record["holdout_acc"] >= 0.95 and record["holdout_acc_unseen_mirror"] >= 0.95
    # It grokked: early in training select accuracy was near chance while train rose.
    assert record["curve"][0]["select_acc"] < 0.2


def test_a_pair_that_cannot_generalize_does_not():
    """Control for the test above: a linear brain on concatenated one-hots cannot represent
    (a + b) mod p, so it must not reach the threshold."""
    pair = Pair(EncoderGene(), BrainGene(hidden=(), lr=1e-2))
    record = evaluate(pair, RunSettings(task=TaskSpec(p=23, train_frac=0.6), seed=0, budget=300), report_holdout=True)
    assert record["steps_to_threshold"] is None and record["holdout_acc"] < 0.5


def test_record_contract_and_consistency():
    record = evaluate(TINY, RunSettings(task=TaskSpec(p=11), seed=1, budget=30, eval_every=10), report_holdout=True)
    assert CONTRACT <= set(record)
    assert [pt["step"] for pt in record["curve"]] == [10, 20, 30]
    assert record["curve"][-1]["select_acc"] == record["select_acc"]
    assert record["task"]["sizes"]["train"] == len(make_split(TaskSpec(p=11)).train)
    assert record["combiner"] == "concat" and record["params"] == 22 * 16 + 16 + 16 * 11 + 11


@pytest.mark.slow
def test_flops_to_threshold_is_steps_times_step_flops(grokked):
    record = grokked
    assert record["flops_to_threshold"] == record["steps_to_threshold"] * record["flops_per_step"] > 0


def test_deterministic_given_seed():
    a = evaluate(TINY, RunSettings(task=TaskSpec(p=11), seed=3, budget=40))
    b = evaluate(TINY, RunSettings(task=TaskSpec(p=11), seed=3, budget=40))
    c = evaluate(TINY, RunSettings(task=TaskSpec(p=11), seed=4, budget=40))
    assert a["curve"] == b["curve"]
    assert a["curve"] != c["curve"]


@pytest.mark.parametrize("brain", [
    BrainGene(hidden=(16,), batch_size=32, warmup=5, grokfast_lambda=2.0, grad_clip=1.0),
    BrainGene(hidden=(16, 16), optimizer="sgd", loss="mse", activation="gelu"),
    BrainGene(family="transformer", n_layers=1, d_model=16, n_heads=2, d_mlp=32, batch_size=64),
])
def test_every_recipe_option_trains(brain):
    record = evaluate(Pair(EncoderGene(family="cyclic", dim=32, combiner="sum"), brain), RunSettings(task=TaskSpec(p=11), seed=0, budget=20), report_holdout=True)
    assert record["steps_run"] == 20 and not record["diverged"]
    assert 0.0 <= record["holdout_acc"] <= 1.0


def test_divergence_is_recorded_not_raised():
    brain = BrainGene(hidden=(64,), optimizer="sgd", lr=1.0, momentum=0.99, init_scale=10.0,
                      weight_decay=0.0, warmup=0, loss="mse", activation="quadratic")
    record = evaluate(Pair(EncoderGene(), brain), RunSettings(task=TaskSpec(p=11), seed=0, budget=200))
    assert record["diverged"] is True
    assert record["steps_run"] < 200 and record["steps_to_threshold"] is None
    assert not math.isfinite(record["train_loss"]) or abs(record["train_loss"]) > 1e6


def test_holdout_untouched_unless_reported(monkeypatch):
    task = TaskSpec(p=11)
    holdout = set(make_split(task).holdout.tolist())
    seen = spy_on_features(monkeypatch)
    record = evaluate(TINY, RunSettings(task=task, seed=0, budget=10))
    assert record["holdout_acc"] is None and record["holdout_acc_unseen_mirror"] is None
    assert all(not (ids & holdout) for ids in seen)
    evaluate(TINY, RunSettings(task=task, seed=0, budget=10), report_holdout=True)
    assert any(ids == holdout for ids in seen)


def test_hopeless_run_stops_on_plateau_and_says_so():
    pair = Pair(EncoderGene(), BrainGene(hidden=(), lr=1e-2))
    record = evaluate(pair, RunSettings(task=TaskSpec(p=23, train_frac=0.6), seed=0, budget=300, patience=3))
    assert record["stopped"] == "plateau" and record["steps_run"] < 300
    assert record["steps_to_threshold"] is None and len(record["curve"]) == record["steps_run"] // 10


def test_holdout_runs_go_on_to_the_cap_and_keep_the_first_crossing():
    """A run that reports holdout trains to the step cap after reaching the threshold, so its
    holdout is not read at the crossing select picked; its figure stays the first crossing,
    the same step a search run (which stops there) records."""
    pair, task = RECIPES["onehot-quad"].pair, TaskSpec(p=23, train_frac=0.6)
    search = evaluate(pair, RunSettings(task=task, seed=0, budget=200, threshold=0.9))
    report = evaluate(pair, RunSettings(task=task, seed=0, budget=200, threshold=0.9), report_holdout=True)
    early = evaluate(pair, RunSettings(task=task, seed=0, budget=200, threshold=0.9), report_holdout=True, run_on=False)
    assert search["stopped"] == report["stopped"] == early["stopped"] == "threshold"
    assert search["steps_to_threshold"] == report["steps_to_threshold"] == early["steps_to_threshold"] < 200
    assert search["steps_run"] == early["steps_run"] == search["steps_to_threshold"]
    assert report["steps_run"] == 200 and report["curve"][-1]["step"] == 200
    assert report["flops_to_threshold"] == search["flops_to_threshold"]


@pytest.mark.slow
def test_curriculum_stacks_layers_and_counts_every_stage():
    """add, then mul: the second stage trains a brain with a new layer on top, and the
    curriculum's cost adds the first stage's steps and FLOPs; frozen old layers stay unchanged."""
    import torch

    from evo.execution.curriculum import evaluate_curriculum

    pair, task = RECIPES["onehot-quad"].pair, TaskSpec(p=23, train_frac=0.7)
    # the new linear layer reads the raw scores, so the old brain keeps learning through it
    record = evaluate_curriculum(pair, ["add", "mul"], RunSettings(task=task, seed=0, budget=500), new_hidden=(), read="scores")
    first, second = record["curriculum"]["stages"]
    assert first["op"] == "add" and second["op"] == "mul" and record["task"]["op"] == "mul"
    assert second["params"] > first["params"] == evaluate(pair, RunSettings(task=task, seed=0, budget=1))["params"]
    assert record["last_stage_steps_to_threshold"] is not None  # so that the totals below are checked
    if record["last_stage_steps_to_threshold"] is not None:
        assert record["steps_to_threshold"] == first["steps_run"] + record["last_stage_steps_to_threshold"]
        assert record["flops_to_threshold"] == (first["steps_run"] * first["flops_per_step"]
                                                + record["last_stage_steps_to_threshold"] * second["flops_per_step"])
    assert record["holdout_acc"] is not None
    # frozen: the base trained alone on add for the same steps ends with the same weights
    from brains.stacked import Stacked
    from evo.execution.curriculum import stage_data
    from evo.execution.evaluate import prepare
    from brains.train import train
    prep = prepare(pair, TaskSpec(p=11, train_frac=0.6, op="mul"), 0, torch.device("cpu"))
    train(prep.model, stage_data(prep, "add"), pair.brain, seed=0, budget=200)
    before = {k: v.clone() for k, v in prep.model.state_dict().items()}
    stacked = Stacked(prep.model, prep.data.x_train[0].numel(), 11, (16,), "relu", True, freeze=True)
    train(stacked, stage_data(prep, "mul"), pair.brain, seed=1, budget=30)
    assert all(torch.equal(before[k], v) for k, v in stacked.base.state_dict().items())


def test_stacked_layers_read_the_answer_as_a_one_hot_and_send_no_gradient_back():
    """read="answer": the new layers see exactly one-hot(argmax of the old scores) next to the
    features (checked against a hand-built input), and the old brain gets no gradient."""
    import torch

    from brains.stacked import Stacked

    torch.manual_seed(0)
    base = torch.nn.Linear(6, 5)
    stacked = Stacked(base, 6, 5, (), "relu", True, freeze=False, read="answer")
    x = torch.randn(8, 6)
    head = stacked.head[0]
    expected = torch.cat([torch.eye(5)[base(x).argmax(1)], x], dim=1) @ head.weight.T + head.bias
    assert torch.allclose(stacked(x), expected)
    stacked(x).sum().backward()
    assert base.weight.grad is None and head.weight.grad is not None
    raw = Stacked(base, 6, 5, (), "relu", True, freeze=False, read="scores")
    raw(x).sum().backward()
    assert base.weight.grad is not None


def test_a_curriculum_s_stages_share_one_step_budget_and_flop_cap():
    """Three stages under a 40-step budget: together they run at most 40 steps and the FLOP
    cap, each later stage keeps at least one evaluation's steps, and an earlier stage stops
    at its first crossing (no hold) while the last keeps the run's hold."""
    from evo.execution.curriculum import evaluate_curriculum, stage_settings

    pair, task = RECIPES["onehot-quad"].pair, TaskSpec(p=11, train_frac=0.6)
    settings = RunSettings(task=task, seed=0, budget=40, max_flops=4e7, hold=1.0)
    record = evaluate_curriculum(pair, ["sub", "mul", "add"], settings, report_holdout=False)
    stages = record["curriculum"]["stages"]
    assert len(stages) == 3 and stages[-1]["steps_run"] >= 1
    assert sum(s["steps_run"] for s in stages[:-1]) <= 40 - 10
    assert sum(s["steps_run"] * s["flops_per_step"] for s in stages[:-1]) <= 4e7
    first = stage_settings(settings, 0, 3, 0, 0.0)
    assert (first.budget, first.hold, first.seed) == (20, 0.0, 0) and first.max_flops == pytest.approx(2e7)
    last = stage_settings(settings, 2, 3, 25, 1e7)
    assert (last.budget, last.hold, last.seed) == (15, 1.0, 2) and last.max_flops == pytest.approx(3e7)
