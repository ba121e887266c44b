"""`--rank-misses stages`: a curriculum's miss is credited with the earlier stages it crossed,
those whose answer is more than a sum f(x) + g(y) only."""
import itertools

import pytest

from evo.cli.pair_args import suggested
from evo.execution.curriculum import evaluate_curriculum
from evo.search.scoring import cost, objectives, polish_select, ranker, shortfall
from evo.settings import RunSettings
from evo.tasks import TaskSpec, evaluate_op, interacts


@pytest.mark.parametrize("op", ["add", "x^3", "y", "x*y^2", "x^3+y", "x-x+y", "2*x+0*y", "cond", "div",
                                "x^0*y^0", "x^2+y^2", "x*y", "x^2+x*y+y^2", "x/(x+y)", "3*x-y^3"])
def test_interacts_against_every_quadruple(op):
    """A sum f(x) + g(y) is what has A[x,y] + A[x',y'] = A[x,y'] + A[x',y] for every
    x, x', y, y' whose four answers exist: checked over all of them mod 11."""
    p = 11
    answers = {}
    for x, y in itertools.product(range(p), repeat=2):
        answer, valid = evaluate_op(op, [x], [y], p)
        if valid[0]:
            answers[x, y] = int(answer[0])
    summed = all((answers[x, y] + answers[u, v] - answers[x, v] - answers[u, y]) % p == 0
                 for x, u, y, v in itertools.product(range(p), repeat=4)
                 if {(x, y), (u, v), (x, v), (u, y)} <= answers.keys())
    assert interacts(op, p) == (not summed)


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


def test_a_crossed_stage_that_interacts_halves_the_shortfall():
    plain, chain = record([]), record([("x*y^2", True)])
    assert shortfall(plain, progress=True, stages=True) == pytest.approx(1.0)
    assert shortfall(chain, progress=True) == pytest.approx(1.0)          # without the credit: as any miss
    assert shortfall(chain, progress=True, stages=True) == pytest.approx(0.5)
    assert cost(chain, "steps", progress=True, stages=True) < cost(plain, "steps", progress=True, stages=True)
    assert objectives(chain, "steps", "stages")[0] < objectives(plain, "steps", "stages")[0]
    assert ranker("steps", "stages")(chain) < ranker("steps", "stages")(plain)
    assert ranker("steps", "progress")(chain) == ranker("steps", "progress")(plain)


def test_a_curriculum_is_read_as_a_ladder():
    """1 / (1 + the height climbed): a next rung tried costs nothing until it moves, and pays
    as soon as it does (under the mean over all stages, x*y^2 -> x*y^2+y at chance ranked
    2/3, below x*y^2 alone at 1/2); a rung almost crossed reads as one crossed, never better
    (the first version of the ladder read an x*y^2 stage at 98% select as done and its
    crossing as a fall to 1/2, and a search filled with stages that stopped short)."""
    def read(stages):
        return shortfall(record(stages), progress=True, stages=True)
    alone, tried = read([("x*y^2", True)]), read([("x*y^2", True), ("x*y^2+y", False)])
    climbed = read([("x*y^2", True), ("x*y^2+y", True)])
    assert (alone, tried, climbed) == pytest.approx((0.5, 1 / 2.1, 1 / 3))
    assert climbed < tried < alone
    assert read([("x*y^2", False), ("x*y^2+y", False)]) == pytest.approx(1 / 1.1)   # the first rung's gap
    assert read([("x*y^2", False)]) == pytest.approx(1 / 1.1) and read([]) == pytest.approx(1.0)
    better_last = record([("x*y^2", False)])
    better_last["curve"] = curve(0.2, 0.5)                                     # the target moved itself
    assert shortfall(better_last, progress=True, stages=True) == pytest.approx(0.4)
    almost = record([("x*y^2", False)])
    almost["curriculum"]["stages"][0]["curve"] = curve(0.0005, 0.98)
    near = shortfall(almost, progress=True, stages=True)
    assert alone <= near < alone + 1e-3 and near < read([("x*y^2", False)])
    for own in (0.0, 0.3, 0.7, 1.0, 1.05):                                # a lone run: its own, past chance too
        lone = record([])
        lone["curve"] = curve(own / 2, 0.01)
        assert shortfall(lone, progress=True, stages=True) == pytest.approx(own)


def test_a_repeated_stage_is_credited_once_by_its_furthest_run():
    """x*y^2 -> x*y^2 -> target filled a search (README): a repeat earns nothing more."""
    once = shortfall(record([("x*y^2", True)]), progress=True, stages=True)
    assert shortfall(record([("x*y^2", True), ("x*y^2", True)]), progress=True, stages=True) == pytest.approx(once)
    assert shortfall(record([("x*y^2", False), ("x*y^2", True)]), progress=True, stages=True) == pytest.approx(once)
    assert shortfall(record([("x*y^2", False), ("x*y^2", False)]), progress=True, stages=True) == \
        pytest.approx(shortfall(record([("x*y^2", False)]), progress=True, stages=True))


def test_a_stage_that_is_a_sum_earns_nothing():
    """`y`, `x^3` or `x^3+y` is a lookup per operand and an addition: crossing it says little
    about the task (crediting x^3+y let it fill a search's population: README)."""
    for op in ("y", "x^3", "x^3+y"):
        assert shortfall(record([(op, True)]), progress=True, stages=True) == pytest.approx(1.0)


def test_accuracy_shortfall_and_polish_floor_read_the_stages_too():
    chain = record([("x*y^2", True)])
    assert shortfall(chain, stages=True) == pytest.approx(1 / (2 + 1 - 0.98 / 0.99))   # the target a bit up
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
    own = shortfall(run, progress=True)
    assert shortfall(run, progress=True, stages=True) == pytest.approx(min(own, 1 / (2 + max(0.0, 1 - own))))
    assert shortfall(run, progress=True, stages=True) <= 0.5
