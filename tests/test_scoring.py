"""Objectives from records: the cost of a miss, and what a failed run scores."""
import math

from evo.search.scoring import WORST, cost, objectives


def record(steps=None, params=1000, best=0.5, diverged=False, failed=False):
    return {"steps_to_threshold": steps, "flops_to_threshold": None if steps is None else steps * 10,
            "seconds_to_threshold": None, "diverged": diverged, "failed": failed, "threshold": 0.99,
            "curve": [{"select_acc": best}], "steps_cap": 100, "flops_per_step": 10, "max_flops": 1e6,
            "budget": 100, "params": params}


def test_miss_costs_cap_times_ten_to_the_shortfall():
    assert math.isclose(cost(record(best=0.495), "flops"), 1e6 * 10 ** 0.5)
    assert math.isclose(cost(record(best=0.99), "flops"), 1e6)
    assert cost(record(steps=20), "flops") == 200


def test_objectives_are_log_cost_and_log_params():
    hit, miss = objectives(record(steps=50, params=10**5), "flops"), objectives(record(params=100), "flops")
    assert hit == (math.log10(500), 5.0)
    assert math.isclose(miss[0], 6 + (0.99 - 0.5) / 0.99) and miss[1] == 2.0
    assert objectives(record(failed=True), "flops") == WORST


def test_shortfall_ranking_gives_misses_the_worst_size_and_keeps_hits():
    hit = objectives(record(steps=50, params=10**5), "flops", misses="shortfall")
    small_miss = objectives(record(params=10, best=0.2), "flops", misses="shortfall")
    big_miss = objectives(record(params=10**6, best=0.6), "flops", misses="shortfall")
    assert hit == (math.log10(500), 5.0)
    assert small_miss[1] == big_miss[1] == WORST[1]
    assert small_miss[0] == objectives(record(params=10, best=0.2), "flops")[0]  # same cost

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b)) and a != b
    # the better miss now dominates the smaller one; under `size` neither dominates
    assert dominates(big_miss, small_miss)
    size_small = objectives(record(params=10, best=0.2), "flops")
    size_big = objectives(record(params=10**6, best=0.6), "flops")
    assert not dominates(size_big, size_small) and not dominates(size_small, size_big)
    assert dominates(hit, big_miss)
    assert objectives(record(failed=True), "flops", misses="shortfall") == WORST
