"""Crossings that hold (brains.loop.run's `hold`): to the end of the run, at least as many
steps again as the crossing took. On planted select curves: a scripted back end whose
select accuracy at step s is given, so the loop's rule is checked on its own."""
import math

import pytest
import torch

from brains.loop import Evaluation, StepOut, run
from evo.records import credited_select
from evo.search.config import RunConfig
from evo.search.scoring import cost


class Scripted:
    """One member per script; a script maps an evaluation step to select accuracy (the last
    entry at or before the step)."""

    def __init__(self, scripts: list[dict[int, float]], flops: int = 100):
        self.scripts, self.rows = list(scripts), list(range(len(scripts)))
        self.step_flops, self.eval_flops = [flops] * len(scripts), [0] * len(scripts)
        self.device = torch.device("cpu")
        self.t = 0

    def step(self) -> StepOut:
        self.t += 1
        n = len(self.rows)
        return StepOut(torch.ones(n), torch.zeros(n, dtype=torch.long), [1] * n)

    def evaluate(self, under=None) -> list[Evaluation]:
        def at(script: dict[int, float]) -> float:
            return script[max(s for s in script if s <= self.t)]
        return [Evaluation(at(self.scripts[row]), 1.0) for row in self.rows]

    def drop(self, rows: list[int]) -> None:
        self.rows = [r for i, r in enumerate(self.rows) if i not in rows]


HOLDS = {0: 0.1, 20: 0.995}                                 # crosses at 20 and stays
DECAYS = {0: 0.1, 20: 0.995, 30: 0.97, 40: 0.5}             # crosses at 20, falls at 30
RECOVERS = {0: 0.1, 20: 0.995, 30: 0.97, 60: 0.999}         # falls, then crosses again at 60 and stays


def test_a_crossing_counts_once_it_has_held_to_the_end():
    held, decayed, recovered = run(Scripted([HOLDS, DECAYS, RECOVERS]), 3, budget=300, hold=1.0)
    assert (held.steps_to_threshold, held.steps_run, held.stopped, held.crossings_lost) == (20, 300, "threshold", 0)
    assert decayed.steps_to_threshold is None and decayed.crossings_lost == 1 and decayed.steps_run == 300
    assert (recovered.steps_to_threshold, recovered.steps_run, recovered.crossings_lost) == (60, 300, 1)
    late_fall = run(Scripted([{0: 0.1, 20: 0.995, 250: 0.9}]), 1, budget=300, hold=1.0)[0]
    assert late_fall.steps_to_threshold is None and late_fall.crossings_lost == 1   # a fall near the end counts


def test_hold_zero_is_the_first_crossing():
    for script in (HOLDS, DECAYS, RECOVERS):
        result = run(Scripted([script]), 1, budget=300, hold=0.0)[0]
        assert (result.steps_to_threshold, result.steps_run, result.stopped) == (20, 20, "threshold")


def test_the_check_runs_past_the_step_cap():
    """A late crossing is checked as long as an early one: the run goes on past its cap."""
    late = {0: 0.1, 40: 0.995}
    result = run(Scripted([late]), 1, budget=50, hold=1.0)[0]
    assert (result.steps_to_threshold, result.steps_run, result.steps_cap) == (40, 80, 50)
    missed = run(Scripted([{0: 0.1, 40: 0.995, 70: 0.2}]), 1, budget=50, hold=1.0)[0]
    assert missed.steps_to_threshold is None and missed.steps_run == 70   # lost at 70: back to its cap


def test_run_on_keeps_the_held_crossing():
    result = run(Scripted([RECOVERS]), 1, budget=200, hold=1.0, run_on=True)[0]
    assert (result.steps_to_threshold, result.steps_run, result.stopped) == (60, 200, "threshold")


def test_a_window_ends_the_hold_and_the_run_at_twice_the_crossing():
    """hold_window: the crossing at 20 is held to 40, not to the cap of 300, and the run ends
    there; a fall inside the window is still a loss, a later crossing gets its own window, and
    a late one is still checked past the cap."""
    held, decayed, recovered = run(Scripted([HOLDS, DECAYS, RECOVERS]), 3, budget=300, hold=1.0, hold_window=True)
    assert (held.steps_to_threshold, held.steps_run, held.stopped, held.crossings_lost) == (20, 40, "threshold", 0)
    assert decayed.steps_to_threshold is None and decayed.crossings_lost == 1 and decayed.steps_run == 300
    assert (recovered.steps_to_threshold, recovered.steps_run, recovered.crossings_lost) == (60, 120, 1)
    after = run(Scripted([{0: 0.1, 20: 0.995, 250: 0.9}]), 1, budget=300, hold=1.0, hold_window=True)[0]
    assert (after.steps_to_threshold, after.steps_run) == (20, 40)   # a fall after the window is not seen
    late = run(Scripted([{0: 0.1, 40: 0.995}]), 1, budget=50, hold=1.0, hold_window=True)[0]
    assert (late.steps_to_threshold, late.steps_run) == (40, 80)
    half = run(Scripted([HOLDS]), 1, budget=300, hold=0.5, hold_window=True)[0]
    assert (half.steps_to_threshold, half.steps_run) == (20, 30)
    on = run(Scripted([HOLDS]), 1, budget=200, hold=1.0, hold_window=True, run_on=True)[0]
    assert (on.steps_to_threshold, on.steps_run, on.stopped) == (20, 200, "threshold")   # a re-check: to the cap


def test_a_decayed_pair_is_a_miss_with_its_late_shortfall():
    """Ranked by where it fell to, not by the crossing it lost: worse than a steady 0.9."""
    decayed = run(Scripted([DECAYS]), 1, budget=100, hold=1.0)[0]
    steady = run(Scripted([{0: 0.9}]), 1, budget=100, hold=1.0)[0]

    def record(result):
        return {"threshold": 0.99, "steps_to_threshold": result.steps_to_threshold, "diverged": False,
                "crossings_lost": result.crossings_lost, "curve": result.curve, "steps_cap": result.steps_cap,
                "flops_per_step": result.flops_per_step, "budget": 100, "max_flops": 1e6, "params": 10}
    assert credited_select(record(decayed)) == 0.5
    assert cost(record(decayed), "flops") > cost(record(steady), "flops") > 1e6
    assert math.isclose(cost(record(steady), "flops"), 1e6 * 10 ** ((0.99 - 0.9) / 0.99))


def test_old_checkpoints_resume_with_the_first_crossing():
    """hold came after the first checkpoints: a config without it ran, and resumes, at 0."""
    assert RunConfig().hold == 1.0
    old = {k: v for k, v in RunConfig(p=11).to_dict().items() if k != "hold"}
    assert RunConfig.stored(old).hold == 0.0
    assert "hold" not in RunConfig.stored(old).run_settings().to_dict()
    assert RunConfig(p=11).run_settings().to_dict()["hold"] == 1.0


def test_hold_is_checked():
    from evo.errors import UserError
    with pytest.raises(UserError, match="--hold"):
        RunConfig(hold=-1)


def test_old_checkpoints_resume_with_the_hold_to_the_cap():
    old = {k: v for k, v in RunConfig(p=11).to_dict().items() if k != "hold_window"}
    assert RunConfig.stored(old).hold_window is False
    assert "hold_window" not in RunConfig(p=11, hold_window=False).run_settings().to_dict()   # keys of runs made without it
    assert RunConfig(p=11, hold_window=True).run_settings().to_dict()["hold_window"] is True
    assert "hold_window" not in RunConfig(p=11, hold=0.0, hold_window=True).run_settings().to_dict()
    from evo.errors import UserError
    with pytest.raises(UserError, match="--hold-window"):
        RunConfig(hold_window="yes")
