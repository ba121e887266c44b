"""The router brain family (brains.router), checked against oracles written here: a
weight-tied residual MLP, finite differences, a FLOP count by hand, slow loops."""
from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from brains import introspect
from brains.flops import count_step_flops
from brains.gene import BrainGene
from brains.models import build_model
from brains.router import Router
from evo.execution.curriculum import evaluate_curriculum
from evo.pair import Pair
from evo.recipes import get_recipe
from evo.search import variation
from evo.search.loop import ROUTER_HELD
from evo.settings import RunSettings
from evo.summary import brain as brain_summary
from evo.tasks import TaskSpec
from tests.runs import SMALL, run_cli
from tests.strategies import gene_dicts

ROUTER = BrainGene(family="router", router_blocks=(8, 12, 6), router_dim=10, router_steps=3, activation="relu")


def model_of(gene: BrainGene, in_dim: int = 7, n_out: int = 5, seed: int = 0) -> Router:
    torch.manual_seed(seed)
    return build_model(gene, in_dim, n_out).double()


def test_shapes_and_gradients_reach_every_block_and_the_router():
    for kind in ("soft", "hard"):
        for halt in (False, True):
            model = model_of(replace(ROUTER, router_kind=kind, router_halt=halt, router_balance=0.1))
            x = torch.randn(64, 7, dtype=torch.float64)
            out = model(x)
            assert out.shape == (64, 5)
            assert model.routing["chosen"].shape == (3, 64)
            assert model.routing["probs"].shape == (3, 64, 3)
            (F.cross_entropy(out, torch.randint(0, 5, (64,))) + model.aux_loss()).backward()
            chosen = set(model.routing["chosen"].flatten().tolist())
            for name, param in model.named_parameters():
                block = int(name.split(".")[1]) if name.startswith("blocks.") else None
                if kind == "hard" and block is not None and block not in chosen:
                    continue   # hard routing trains only the blocks it chose
                assert param.grad is not None and param.grad.abs().sum() > 0, (kind, halt, name)


def test_one_block_equals_a_weight_tied_residual_mlp_applied_r_times():
    for kind in ("soft", "hard"):
        for steps in (1, 2, 5):
            gene = replace(ROUTER, router_blocks=(9,), router_steps=steps, router_kind=kind)
            model = model_of(gene)
            x = torch.randn(20, 7, dtype=torch.float64)
            block = model.blocks[0]
            s = x @ model.inp.weight.T + model.inp.bias
            for _ in range(steps):
                s = s + torch.relu(s @ block.up.weight.T + block.up.bias) @ block.down.weight.T + block.down.bias
            oracle = s @ model.head.weight.T + model.head.bias
            torch.testing.assert_close(model(x), oracle, rtol=0, atol=1e-12)


def _finite_difference(loss, param: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    grad = torch.zeros_like(param)
    with torch.no_grad():
        flat, out = param.view(-1), grad.view(-1)
        for i in range(flat.numel()):
            keep = float(flat[i])
            flat[i] = keep + eps
            up = float(loss())
            flat[i] = keep - eps
            down = float(loss())
            flat[i] = keep
            out[i] = (up - down) / (2 * eps)
    return grad


def test_hard_routing_straight_through_gradient_against_finite_differences():
    """With a loss linear in the output, hard routing's straight-through gradient to the
    router is exactly the soft mixture's, whose loss is smooth: finite differences of the
    soft model check it. A chosen block's gradient is the hard model's own, checked by finite
    differences of the hard model (one step: the choice does not read the block)."""
    hard = model_of(replace(ROUTER, router_kind="hard", router_steps=1))
    soft = model_of(replace(ROUTER, router_kind="soft", router_steps=1))
    soft.load_state_dict(hard.state_dict())
    x = torch.randn(30, 7, dtype=torch.float64)
    c = torch.randn(30, 5, dtype=torch.float64)
    hard.zero_grad()
    (hard(x) * c).sum().backward()
    for name in ("choose.weight", "choose.bias", "step_bias"):
        param = dict(soft.named_parameters())[name]
        numeric = _finite_difference(lambda: (soft(x) * c).sum(), param)
        torch.testing.assert_close(dict(hard.named_parameters())[name].grad, numeric, rtol=1e-5, atol=1e-7)
    chosen = set(hard.routing["chosen"][0].tolist())
    for k, block in enumerate(hard.blocks):
        numeric = _finite_difference(lambda: (hard(x) * c).sum(), block.up.weight)
        torch.testing.assert_close(block.up.weight.grad, numeric, rtol=1e-5, atol=1e-7)
        assert (block.up.weight.grad.abs().sum() > 0) == (k in chosen)


def test_step_flops_count_every_block_at_every_step():
    """By hand: every Linear on n rows costs 2 n in out forward, as much for the weight's
    gradient and as much for its input's gradient (not for the first layer: x needs none)."""
    for halt in (False, True):
        gene = replace(ROUTER, router_halt=halt, bias=False)
        model = model_of(gene)
        n, in_dim, d, k, p, steps = 16, 7, 10, 3, 5, 3
        mm = lambda a, b: 2 * n * a * b  # noqa: E731
        forward = mm(in_dim, d) + steps * (sum(mm(d, w) * 2 for w in gene.router_blocks) + mm(d, k)) + mm(d, p)
        forward += (steps - 1) * mm(d, 1) if halt else 0
        expected = 3 * forward - mm(in_dim, d)
        x, y = torch.randn(n, in_dim, dtype=torch.float64), torch.randint(0, p, (n,))
        assert count_step_flops(model, x, y, F.cross_entropy) == expected


def test_balance_loss_against_a_slow_oracle():
    model = model_of(ROUTER)
    probs = torch.softmax(torch.randn(3, 40, 3, dtype=torch.float64), -1)
    total = 0.0
    for step in probs:
        top = step.argmax(-1).tolist()
        total += 3 * sum(top.count(j) / 40 * float(step[:, j].mean()) for j in range(3))
    assert float(model.balance_loss(probs)) == pytest.approx(total / 3)
    uniform = torch.full((1, 6, 3), 1 / 3, dtype=torch.float64)
    assert float(model.balance_loss(uniform)) == pytest.approx(1.0)   # argmax ties: all to block 0, P 1/3


def test_halting_distribution_sums_to_one_and_reads_the_states():
    model = model_of(replace(ROUTER, router_halt=True))
    x = torch.randn(25, 7, dtype=torch.float64)
    model(x)
    halt = model.routing["halt"]
    assert halt.shape == (3, 25)
    torch.testing.assert_close(halt.sum(0), torch.ones(25, dtype=torch.float64))


def test_block_hand_over_keeps_the_weights():
    for freeze in (False, True):
        model = model_of(ROUTER)
        before = {name: t.clone() for name, t in model.state_dict().items()}
        nxt = model.handed_over(ROUTER, 5, (4, 4), freeze)
        assert len(nxt.blocks) == 5
        for k in range(3):
            assert nxt.blocks[k] is model.blocks[k]
            for name in ("up.weight", "down.weight"):
                torch.testing.assert_close(nxt.blocks[k].state_dict()[name], before[f"blocks.{k}.{name}"])
        assert nxt.inp is model.inp
        opt = torch.optim.SGD([p for p in nxt.parameters() if p.requires_grad], lr=0.1)
        F.cross_entropy(nxt(torch.randn(9, 7, dtype=torch.float64)), torch.randint(0, 5, (9,))).backward()
        opt.step()
        moved = not torch.equal(nxt.blocks[0].up.weight, before["blocks.0.up.weight"])
        assert moved != freeze
        assert nxt.blocks[3].up.weight.requires_grad


@settings(max_examples=60, deadline=None)
@given(gene_dicts(BrainGene))
def test_router_gene_json_round_trip(data):
    data = {**data, "family": "router", "curriculum": []}
    gene = BrainGene.from_dict(data)   # a router has no cross-field rule the strategy could break
    again = BrainGene.from_dict(json.loads(json.dumps(gene.to_dict())))
    assert again == gene
    assert again.router_blocks == tuple(data["router_blocks"])


@given(st.lists(st.integers(4, 1024), min_size=1, max_size=8), st.lists(st.integers(4, 1024), min_size=1,
                                                                          max_size=8), st.integers(0, 10 ** 6))
def test_crossover_exchanges_whole_blocks(a_blocks, b_blocks, seed):
    a = replace(ROUTER, router_blocks=tuple(a_blocks))
    b = replace(ROUTER, router_blocks=tuple(b_blocks), lr=0.02)
    child = variation.crossover(a, b, random.Random(seed))
    assert len(child.router_blocks) in (len(a_blocks), len(b_blocks))
    for i, width in enumerate(child.router_blocks):
        assert width in [t[i] for t in (a_blocks, b_blocks) if i < len(t)]


def test_crossover_mixes_blocks_of_both_parents():
    a, b = replace(ROUTER, router_blocks=(8, 8, 8, 8)), replace(ROUTER, router_blocks=(16, 16, 16, 16))
    children = {variation.crossover(a, b, random.Random(s)).router_blocks for s in range(40)}
    assert any(8 in c and 16 in c for c in children)


def test_a_run_without_the_router_family_never_draws_or_mutates_into_it():
    rng = random.Random(0)
    genes = [variation.random_gene(BrainGene, rng, frozen=ROUTER_HELD) for _ in range(60)]
    assert {g.family for g in genes} == {"mlp", "transformer", "ff"}
    mlp = BrainGene()
    assert all(variation.mutate(mlp, rng, frozen=ROUTER_HELD).family != "router" for _ in range(200))
    assert any(variation.random_gene(BrainGene, rng).family == "router" for _ in range(60))


def test_routes_grid_and_usage():
    model = model_of(ROUTER, in_dim=6)
    p = 4
    pairs = np.array([(a, b) for a in range(p) for b in range(p) if a <= b])
    seen = introspect.routes(model, torch.randn(len(pairs), 6, dtype=torch.float64))
    grid = introspect.route_grid(seen["chosen"], pairs, p)
    assert grid.shape == (3, p, p) and grid[0, 3, 0] == -1
    for step in range(3):
        for row, (a, b) in enumerate(pairs):
            assert grid[step, a, b] == seen["chosen"][step, row]
    use = introspect.usage(seen["chosen"], 3)
    np.testing.assert_allclose(use.sum(1), 1.0)


def test_the_router_recipe_and_its_summary():
    gene = get_recipe("router").pair.brain
    assert gene.family == "router"
    assert brain_summary(gene).startswith("router[64, 64] d128 R2 soft quadratic")
    assert "halt" in brain_summary(replace(gene, router_halt=True))


def test_a_search_with_router_brains_draws_them_and_names_them(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli("run", *SMALL, "--generations", "2", "--brain-families", "mlp,router", "--workers", "1",
                   "--out", str(out)) == 0
    cache = json.loads((out / "checkpoint.json").read_text())["state"]["cache"]
    families = {record["brain"]["family"] for record in cache.values()}
    assert families == {"mlp", "router"}
    only = tmp_path / "only"
    assert run_cli("run", *SMALL, "--generations", "1", "--brain-families", "router", "--workers", "1",
                   "--out", str(only)) == 0
    capsys.readouterr()
    assert run_cli("show", str(only)) == 0
    shown = capsys.readouterr().out
    assert "router[" in shown and "mlp[" not in shown
    assert run_cli("report", str(only)) == 0
    assert "router[" in (only / "report.md").read_text()


def test_a_router_curriculum_hands_its_blocks_on():
    gene = replace(get_recipe("router").pair.brain, router_blocks=(8,), router_dim=16, stack_hidden=(8, 8))
    pair = Pair(get_recipe("router").pair.encoder, gene)
    settings_ = RunSettings(task=TaskSpec(op="x^2+y^2", p=11), seed=0, budget=30)
    record = evaluate_curriculum(pair, ["x^2", "x^2+y^2"], settings_, new_hidden=gene.stack_hidden,
                                 report_holdout=False)
    first, last = record["curriculum"]["stages"]
    # the second router holds the first one's block and two new ones (and a new router and head)
    assert last["params"] - first["params"] == 2 * (2 * 16 * 8) + 2 * (16 + 1) + 2 * gene.router_steps


def _before_router() -> type:
    """An oracle: BrainGene as it was before the router family, without its fields and its
    family choice, and with the same cross-field rules."""
    fields = []
    for f in dataclasses.fields(BrainGene):
        if f.name.startswith("router_"):
            continue
        spec = f.metadata["spec"]
        if f.name == "family":
            spec = dataclasses.replace(spec, choices=tuple(c for c in spec.choices if c != "router"))
        fields.append((f.name, f.type, dataclasses.field(default=f.default, metadata={"spec": spec})))
    return dataclasses.make_dataclass("BrainGene", fields, frozen=True,
                                      namespace={"__post_init__": BrainGene.__post_init__,
                                                 "to_dict": BrainGene.to_dict})


def test_a_run_without_the_router_family_draws_exactly_as_before_it_existed():
    old = _before_router()
    frozen = ROUTER_HELD | {"curriculum", "stack_hidden", "stack_freeze", "stack_read"}
    old_frozen = frozen - ROUTER_HELD
    ok = lambda g: g.family == "mlp"  # noqa: E731

    def walk(cls: type, held: frozenset) -> tuple[list, float]:
        rng = random.Random(3)
        gene, out = variation.random_gene(cls, rng, ok, frozen=held), []
        for _ in range(100):
            other = variation.random_gene(cls, rng, ok, frozen=held)
            gene = variation.crossover(variation.mutate(gene, rng, ok, frozen=held), other, rng, ok, frozen=held)
            out.append(gene.to_dict())
        return out, rng.random()
    assert walk(BrainGene, frozen) == walk(old, old_frozen)
