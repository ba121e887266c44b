"""Objectives from records: the cost of a miss and the size credit only a reached threshold earns."""
import math

from evo.scoring import WORST, cost, objectives


def record(steps=None, params=1000, best=0.5, diverged=False, failed=False):
    return {"steps_to_threshold": steps, "flops_to_threshold": None if steps is None else steps * 10,
            "seconds_to_threshold": None, "diverged": diverged, "failed": failed, "threshold": 0.99,
            "curve": [{"select_acc": best}], "steps_cap": 100, "flops_per_step": 10, "max_flops": 1e6,
            "budget": 100, "params": params}


def test_miss_costs_cap_times_ten_to_the_shortfall():
    assert math.isclose(cost(record(best=0.495), "flops"), 1e6 * 10 ** 0.5)
    assert math.isclose(cost(record(best=0.99), "flops"), 1e6)
    assert cost(record(steps=20), "flops") == 200


def test_only_a_reached_threshold_earns_size_credit():
    tiny_miss, big_hit = objectives(record(params=100), "flops"), objectives(record(steps=50, params=10**5), "flops")
    assert tiny_miss[1] == WORST[1] and big_hit[1] == 5.0
    assert big_hit[0] < tiny_miss[0] and big_hit[1] < tiny_miss[1]   # the hit dominates
    closer = objectives(record(params=10**6, best=0.9), "flops")
    assert closer[0] < tiny_miss[0] and closer[1] == tiny_miss[1]      # misses rank by select accuracy
    assert objectives(record(steps=5, diverged=True), "flops")[1] == WORST[1]
    assert objectives(record(failed=True), "flops") == WORST
