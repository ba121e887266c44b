"""The newer update rules as genes, each against a slow reference written here: Muon on the
weight matrices (with AdamW on the rest), the egalitarian gradient, and the learning-rate
schedules; and the trainers that must leave them alone (batched) or not carry them."""
import dataclasses
import math
import random

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from brains.batched import supports
from brains.flops import update_flops
from brains.gene import BrainGene
from brains.optim import equalize_grads, lr_factor, make_optimizers
from brains.train import train
from evo.errors import UserError
from evo.execution.evaluate import prepare
from evo.recipes import get_recipe
from evo.search import variation
from evo.search.config import RunConfig
from evo.search.loop import Search
from evo.search.state import new_state
from evo.summary import brain as brain_summary
from evo.tasks import TaskSpec

NS = (3.4445, -4.775, 2.0315)   # the quintic Newton-Schulz coefficients of Muon's write-up


def inverse_sqrt_times(g: torch.Tensor) -> torch.Tensor:
    """(G G^T)^(-1/2) G by an eigendecomposition in float64: the paper's formula, literally."""
    g = g.double()
    values, vectors = torch.linalg.eigh(g @ g.T)
    return vectors @ torch.diag(values.rsqrt()) @ vectors.T @ g


def test_the_egalitarian_gradient_is_the_papers_formula_and_leaves_vectors_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(9, 5), nn.ReLU(), nn.Linear(5, 4))
    model(torch.randn(32, 9)).pow(2).sum().backward()
    before = {name: p.grad.clone() for name, p in model.named_parameters()}
    equalize_grads(model)
    for name, p in model.named_parameters():
        if p.ndim == 2:
            assert torch.allclose(p.grad.double(), inverse_sqrt_times(before[name]), atol=1e-4)
            assert torch.allclose(torch.linalg.svdvals(p.grad), torch.ones(min(p.shape)), atol=1e-4)
        else:
            assert torch.equal(p.grad, before[name])


def test_a_zero_gradient_stays_zero_under_the_egalitarian_rule():
    layer = nn.Linear(3, 2)
    layer.weight.grad = torch.zeros(2, 3)
    equalize_grads(layer)
    assert torch.equal(layer.weight.grad, torch.zeros(2, 3))


def newton_schulz(g: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    x = g.double()
    wide = x.shape[0] <= x.shape[1]
    x = x if wide else x.T
    x = x / max(x.norm().item(), eps)
    a, b, c = NS
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x if wide else x.T


@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_muon_moves_the_matrices_as_its_definition_and_adamw_the_rest(scale):
    gene = BrainGene(hidden=(6,), muon=True, lr=0.01, weight_decay=0.1, muon_lr_scale=scale)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))
    opts = make_optimizers(model, gene)
    assert [type(o).__name__ for o in opts] == ["Muon", "AdamW"]
    owned = [p for o in opts for g in o.param_groups for p in g["params"]]
    assert sorted(map(id, owned)) == sorted(id(p) for p in model.parameters())   # each once
    assert all(p.ndim == 2 for p in opts[0].param_groups[0]["params"])
    assert opts[1].param_groups[0]["lr"] == gene.lr   # the rest keep the brain's rate
    matrices = [p for p in model.parameters() if p.ndim == 2]
    mine = [p.detach().double().clone() for p in matrices]
    bufs = [torch.zeros_like(p) for p in mine]
    x = torch.randn(16, 5)
    for _ in range(3):
        for o in opts:
            o.zero_grad()
        model(x).pow(2).mean().backward()
        for i, p in enumerate(matrices):   # the reference step, from Muon's definition
            g = p.grad.double()
            bufs[i] = 0.95 * bufs[i] + 0.05 * g
            update = newton_schulz(0.05 * g + 0.95 * bufs[i])
            lr = gene.lr * scale                                  # Muon's own rate
            scaled = lr * 0.2 * math.sqrt(max(p.shape))   # matched to AdamW's RMS
            mine[i] = mine[i] * (1 - lr * gene.weight_decay) - scaled * update
        for o in opts:
            o.step()
        for p, ref in zip(matrices, mine):   # torch orthogonalizes in bfloat16
            assert torch.allclose(p.double(), ref, atol=3e-3 * gene.lr * scale * 10)


def test_schedules_follow_torchs_own_schedulers():
    horizon = 50
    for schedule, make in (("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=horizon)),
                           ("onecycle", lambda o: torch.optim.lr_scheduler.OneCycleLR(
                               o, max_lr=1.0, total_steps=horizon, cycle_momentum=False))):
        opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
        sched = make(opt)
        for step in range(horizon):
            assert lr_factor(step, 1, schedule, horizon) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)
            opt.step()
            if step < horizon - 1:
                sched.step()
    assert lr_factor(3, 10, "constant", 100) == pytest.approx(0.4)   # the warm-up, then constant
    assert lr_factor(99, 10, "constant", 100) == 1.0
    assert lr_factor(500, 1, "cosine", 100) == pytest.approx(0.0, abs=1e-12)   # held past the budget


def test_new_rules_train_alone_and_only_constant_rates_carry():
    base = get_recipe("onehot-mlp").pair.brain
    for change in ({"muon": True}, {"egalitarian": True}, {"lr_schedule": "cosine"}):
        assert not supports(dataclasses.replace(base, **change))
    assert supports(base)
    pair = get_recipe("onehot-mlp").pair
    brain = dataclasses.replace(pair.brain, lr_schedule="cosine", hidden=(8,))
    prep = prepare(dataclasses.replace(pair, brain=brain), TaskSpec(p=11), 0, torch.device("cpu"))
    assert train(prep.model, prep.data, brain, seed=0, budget=20, keep=True).carry is None


@pytest.mark.parametrize("recipe", ["egd", "muon"])
def test_the_papers_recipes_are_named_and_train(recipe):
    pair = get_recipe(recipe).pair
    brain = dataclasses.replace(pair.brain, **({"hidden": (16,)} if pair.brain.family == "mlp" else
                                               {"d_model": 16, "n_heads": 2, "d_mlp": 16, "n_layers": 1}))
    prep = prepare(dataclasses.replace(pair, brain=brain), TaskSpec(p=11), 0, torch.device("cpu"))
    result = train(prep.model, prep.data, brain, seed=0, budget=20)
    assert result.steps_run == 20 and not result.diverged


def test_muon_and_the_egalitarian_rule_are_charged_their_matrix_work():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(7, 12), nn.ReLU(), nn.Linear(12, 5))
    model(torch.randn(8, 7)).sum().backward()
    (muon, _) = make_optimizers(model, BrainGene(hidden=(12,), muon=True))
    with FlopCounterMode(display=False) as counter:   # torch counts the Newton-Schulz products
        muon.step()
    assert update_flops(model, muon=True) == counter.get_total_flops() > 0
    svd = sum(6 * b * a * a + 20 * a ** 3 + 2 * a * a * b for a, b in ((7, 12), (5, 12)))
    assert update_flops(model, egalitarian=True) == svd
    assert update_flops(model) == 0
    pair = get_recipe("egd").pair
    brain = dataclasses.replace(pair.brain, hidden=(16,))
    plain = dataclasses.replace(brain, egalitarian=False)
    per_step = {}
    for gene in (brain, plain):
        prep = prepare(dataclasses.replace(pair, brain=gene), TaskSpec(p=11), 0, torch.device("cpu"))
        per_step[gene.egalitarian] = train(prep.model, prep.data, gene, seed=0, budget=1).flops_per_step
        extra = update_flops(prep.model, egalitarian=True)
    assert per_step[True] - per_step[False] == extra > 0


@pytest.mark.parametrize("rules", ["classic", "all"])
def test_the_search_draws_the_newer_rules_only_when_asked(rules):
    config = RunConfig(p=11, population=3, offspring=2, partners=1, budget=20, update_rules=rules)
    search = Search(new_state(config), None, lambda *a, **k: None)
    rng = random.Random(0)
    genes = [variation.random_gene(BrainGene, rng, search.brain_ok, frozen=search.brain_frozen) for _ in range(300)]
    genes += [variation.mutate(g, rng, search.brain_ok, frozen=search.brain_frozen) for g in genes]
    newer = {"muon": any(g.muon for g in genes), "egalitarian": any(g.egalitarian for g in genes),
             "schedules": {g.lr_schedule for g in genes} - {"constant"} != set()}
    assert all(newer.values()) if rules == "all" else not any(newer.values())


@pytest.mark.parametrize("rules, muon_lr", [("classic", "own"), ("all", "shared"), ("all", "own")])
def test_muons_own_rate_is_drawn_only_under_all_rules_and_own(rules, muon_lr):
    config = RunConfig(p=11, population=3, offspring=2, partners=1, budget=20, update_rules=rules, muon_lr=muon_lr)
    search = Search(new_state(config), None, lambda *a, **k: None)
    rng = random.Random(0)
    genes = [variation.random_gene(BrainGene, rng, search.brain_ok, frozen=search.brain_frozen) for _ in range(300)]
    genes += [variation.mutate(g, rng, search.brain_ok, frozen=search.brain_frozen) for g in genes]
    scales = {g.muon_lr_scale for g in genes if g.muon}
    assert (len(scales) > 10 and min(scales) >= 1.0 / 10) if (rules, muon_lr) == ("all", "own") else scales <= {1.0}


def test_a_checkpoint_made_before_muons_own_rate_resumes_shared():
    made_before = RunConfig(p=11, update_rules="all").to_dict()
    made_before.pop("muon_lr")
    assert RunConfig.stored(made_before).muon_lr == "shared"
    assert RunConfig.stored({**made_before, "muon_lr": "own"}).muon_lr == "own"   # a stored choice is kept
    assert RunConfig(p=11).muon_lr == "shared"
    with pytest.raises(UserError):
        RunConfig(p=11, muon_lr="separate")
    gene = BrainGene(muon=True, muon_lr_scale=1.0)
    assert "muon_lr_scale" not in gene.to_dict()   # quiet at 1: older genes keep their cache keys


def test_a_summary_names_muon_next_to_the_optimizer_of_the_rest():
    gene = get_recipe("onehot-quad").pair.brain
    assert "muon+" not in brain_summary(gene)
    assert " muon+adamw lr" in brain_summary(dataclasses.replace(gene, muon=True))
    assert " muon(x12)+adamw lr" in brain_summary(dataclasses.replace(gene, muon=True, muon_lr_scale=12.0))
