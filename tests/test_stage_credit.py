"""`--rank-misses stages`: a curriculum's miss is credited with the earlier stages it crossed,
those that read both operands only."""
import itertools

import pytest

from evo.cli.pair_args import suggested
from evo.execution.curriculum import evaluate_curriculum
from evo.search.scoring import cost, objectives, polish_select, ranker, shortfall
from evo.settings import RunSettings
from evo.tasks import TaskSpec, evaluate_op, reads_both


@pytest.mark.parametrize("op", ["add", "x^3", "y", "x*y^2", "x^3+y", "x-x+y", "2*x+0*y", "cond", "div", "x^0*y^0"])
def test_reads_both_against_a_double_loop(op):
    p = 11
    answers = {}
    for x, y in itertools.product(range(p), repeat=2):
        answer, valid = evaluate_op(op, [x], [y], p)
        if valid[0]:
            answers[x, y] = int(answer[0])
    on_x = any(len({answers[x, y] for x in range(p) if (x, y) in answers}) > 1 for y in range(p))
    on_y = any(len({answers[x, y] for y in range(p) if (x, y) in answers}) > 1 for x in range(p))
    assert reads_both(op, p) == (on_x and on_y)


def curve(rank: float, acc: float) -> list[dict]:
    return [{"step": 10, "select_acc": acc / 2, "select_rank": rank * 1.5}, {"step": 20, "select_acc": acc, "select_rank": rank}]


def record(stages: list[tuple[str, bool]]) -> dict:
    """A miss at chance on x^3+x*y^2+y mod 97 after the given earlier stages (op, crossed)."""
    last = {"op": "x^3+x*y^2+y", "steps_to_threshold": None, "curve": curve(0.5, 0.01)}
    earlier = [{"op": op, "steps_to_threshold": 20 if crossed else None,
                "curve": curve(0.0, 1.0) if crossed else curve(0.45, 0.02)} for op, crossed in stages]
    return {"threshold": 0.99, "task": {"p": 97}, "budget": 900, "max_flops": 1e12, "params": 1000, "steps_cap": 900,
            "flops_per_step": 1e6,
            "steps_to_threshold": None, "curve": last["curve"],
            **({"curriculum": {"ops": [s["op"] for s in earlier] + [last["op"]], "stages": [*earlier, last]}}
               if stages else {})}


def test_a_crossed_stage_that_reads_both_operands_halves_the_shortfall():
    plain, chain = record([]), record([("x*y^2", True)])
    assert shortfall(plain, progress=True, stages=True) == pytest.approx(1.0)
    assert shortfall(chain, progress=True) == pytest.approx(1.0)          # without the credit: as any miss
    assert shortfall(chain, progress=True, stages=True) == pytest.approx(0.5)
    two = record([("x*y^2", True), ("x*y^2+y", False)])                  # the second stage near chance
    assert shortfall(two, progress=True, stages=True) == pytest.approx((1.0 + 0.0 + 0.9) / 3)
    assert cost(chain, "steps", progress=True, stages=True) < cost(plain, "steps", progress=True, stages=True)
    assert objectives(chain, "steps", "stages")[0] < objectives(plain, "steps", "stages")[0]
    assert ranker("steps", "stages")(chain) < ranker("steps", "stages")(plain)
    assert ranker("steps", "progress")(chain) == ranker("steps", "progress")(plain)


def test_a_one_operand_stage_earns_nothing():
    """`y` or `x^3` is a lookup: crossing it says nothing about the task."""
    for op in ("y", "x^3"):
        assert shortfall(record([(op, True)]), progress=True, stages=True) == pytest.approx(1.0)


def test_accuracy_shortfall_and_polish_floor_read_the_stages_too():
    chain = record([("x*y^2", True)])
    assert shortfall(chain, stages=True) == pytest.approx((0.98 / 0.99) / 2)
    assert polish_select(chain, "stages") == 1.0 and polish_select(chain, "progress") == 0.01
    assert polish_select(record([("y", True)]), "stages") == 0.01


def test_a_real_curriculum_record_is_read():
    """The field names the credit reads are those evo.execution.curriculum writes: onehot-quad
    learns x*y^2 mod 23 on the way to x*y^2+y, whose own run a short budget leaves short."""
    pair = suggested("onehot-quad", None)[0]
    settings = RunSettings(task=TaskSpec(op="x*y^2+y", p=23, train_frac=0.7), budget=120)
    run = evaluate_curriculum(pair, ["x*y^2", "y", "x*y^2+y"], settings, report_holdout=False)
    first, _, last = run["curriculum"]["stages"]
    assert first["steps_to_threshold"] is not None and last["steps_to_threshold"] is None
    assert shortfall(run, progress=True, stages=True) == pytest.approx(shortfall(run, progress=True) / 2)
