"""The curriculum as a gene: quiet fields keep old keys, partial sums add up to the task,
runs without a pool never touch the genes, and a searched curriculum equals a direct one."""
import json
import random

import numpy as np
import pytest

from brains.gene import BrainGene
from evo.tasks import expr
from evo.search import variation
from evo.cli import main
from evo.pair import Pair
from evo.search.loop import CURRICULUM_FIELDS
from evo.tasks import TaskSpec
from evo.settings import RunSettings


def test_quiet_fields_stay_out_of_json_at_their_defaults():
    assert not CURRICULUM_FIELDS & set(BrainGene().to_dict())
    gene = BrainGene(curriculum=(1, 4), stack_hidden=(64,), stack_freeze=True)
    data = gene.to_dict()
    assert data["curriculum"] == [1, 4] and data["stack_hidden"] == [64] and data["stack_freeze"] is True
    assert BrainGene.from_dict(json.loads(json.dumps(data))) == gene
    with pytest.raises(ValueError, match="curriculum"):
        BrainGene(family="transformer", curriculum=(0,))


@pytest.mark.parametrize("text", ["x^3+x*y^2+y", "x^2+x*y+y^2+x", "x-y+x*y", "x^3+x*y"])
def test_partial_sums_and_their_complements_add_up_to_the_task(text):
    """Oracle: for every partial sum S there is one T in the list with S + T = the task
    (mod p, on every pair), T being the sum of the other summands."""
    p = 13
    x, y = np.meshgrid(np.arange(p), np.arange(p))
    values = {t: expr.evaluate(expr.parse(t), x, y, p)[0] for t in expr.partial_sums(text)}
    target = expr.evaluate(expr.parse(text), x, y, p)[0]
    n = len(expr.terms(expr.parse(text)))
    assert len(values) == 2 ** n - 2
    for s, v in values.items():
        assert any(np.array_equal((v + w) % p, target) for t, w in values.items() if t != s), s


def test_frozen_fields_are_never_drawn_mutated_or_crossed():
    rng = random.Random(0)
    a = variation.random_gene(BrainGene, rng, frozen=CURRICULUM_FIELDS)
    b = BrainGene(curriculum=(3,), stack_hidden=(32,))
    for _ in range(200):
        g = variation.random_gene(BrainGene, rng, frozen=CURRICULUM_FIELDS)
        assert g.curriculum == () and g.stack_hidden == (128,)
        assert variation.mutate(a, rng, frozen=CURRICULUM_FIELDS).curriculum == ()
        assert variation.crossover(a, b, rng, frozen=CURRICULUM_FIELDS).curriculum == ()
    assert any(variation.random_gene(BrainGene, rng).curriculum for _ in range(50))  # unfrozen: drawn


def test_a_curriculum_grows_and_changes_by_fresh_draws():
    """Its items name operations: an insert is a fresh draw, not a copy of the stage beside it
    (x*y^2 -> x*y^2 teaches nothing), a change a fresh draw, not a step to the next index;
    polish grows it by each operation of the pool, the search's draws stay inside the pool."""
    import genome
    spec = genome.specs(BrainGene)["curriculum"]
    rng = random.Random(0)
    grown = [variation.perturb_value((1,), spec, rng) for _ in range(400)]
    inserted = [g for g in grown if len(g) == 2]
    changed = [g[0] for g in grown if len(g) == 1]
    assert len({g[0] if g[1] == 1 else g[1] for g in inserted}) >= 12     # the new stage: any of 0..15
    assert sum(g == (1, 1) for g in inserted) < len(inserted) / 4
    assert len(set(changed)) >= 12 and all(spec.lo <= v <= spec.hi for v in changed)
    pooled = variation.offered(BrainGene, frozenset({"curriculum<6"}))["curriculum"]   # a pool of 6
    assert variation._moves((1,), pooled) == [(), *[(1, v) for v in range(6) if v != 1], *[(v,) for v in range(6) if v != 1]]
    assert variation._moves((), pooled) == [(v,) for v in range(6)]
    assert variation._moves((1, 5), pooled) == [(1,), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4)]
    assert {item for _ in range(200) for item in variation.random_gene(
        BrainGene, rng, frozen=frozenset({"curriculum<6"})).curriculum} == set(range(6))
    hidden = genome.specs(BrainGene)["hidden"]                            # widths still copy and step
    assert (64, 64) in variation._moves((64,), hidden)


def test_a_searched_curriculum_equals_the_direct_one(tmp_path, capsys):
    from evo.execution.curriculum import evaluate_curriculum

    out = tmp_path / "run"
    assert main(["run", "--p", "11", "--task", "x^2+y^2", "--curriculum-pool", "auto", "--population", "3",
                 "--offspring", "2", "--partners", "1", "--budget", "20", "--generations", "2",
                 "--final-seeds", "1", "--workers", "1", "--no-dashboard", "--out", str(out)]) == 0
    capsys.readouterr()
    state = json.loads((out / "checkpoint.json").read_text())["state"]
    assert state["config"]["curriculum_pool"] == ["x^2", "y^2"]
    staged = [r for r in state["cache"].values() if "curriculum" in r]
    assert staged and all(r["holdout_acc"] is None for r in state["cache"].values())  # the search never looks
    record = staged[0]
    pair = Pair.from_dict(record)
    ops = [["x^2", "y^2"][i % 2] for i in pair.brain.curriculum] + ["x^2+y^2"]
    assert record["curriculum"]["ops"] == ops
    direct = evaluate_curriculum(pair, ops, RunSettings(task=TaskSpec(op="x^2+y^2", p=11), seed=state["config"]["seed"], budget=20, max_flops=1e11, patience=state["config"]["patience"], hold=1.0, select="unseen-mirror"), new_hidden=pair.brain.stack_hidden, freeze=pair.brain.stack_freeze, read=pair.brain.stack_read, report_holdout=False)
    assert [s["select_acc"] for s in direct["curriculum"]["stages"]] == \
        [s["select_acc"] for s in record["curriculum"]["stages"]]
    assert direct["steps_run"] == record["steps_run"] and direct["params"] == record["params"]
