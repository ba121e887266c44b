"""Figures the experiment scripts derive from records, against hand counts."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

from suite import to_holdout  # noqa: E402


def curve(*holdouts):
    return [{"step": 10 * (i + 1), "holdout_acc": h} for i, h in enumerate(holdouts)]


def test_to_holdout_reads_the_first_evaluation_at_the_target():
    record = {"curve": curve(0.5, 0.98, 0.991, 0.999), "steps_run": 40, "seconds": 4.0}
    assert to_holdout(record) == (30, 3.0)
    assert to_holdout({**record, "curve": curve(0.5, 0.98)}) == (None, None)


def test_to_holdout_counts_a_curriculum_s_earlier_stages():
    # stages of 50 and 120 steps (2 s and 6 s) before a last stage of 40 steps in 4 s
    stages = [{"steps_run": 50, "seconds": 2.0}, {"steps_run": 120, "seconds": 6.0},
              {"steps_run": 40, "seconds": 4.0}]
    record = {"curve": curve(0.5, 0.995), "steps_run": 40, "seconds": 4.0, "curriculum": {"stages": stages}}
    assert to_holdout(record) == (50 + 120 + 20, 2.0 + 6.0 + 2.0)


def test_training_flops_count_steps_times_step_flops_and_earlier_stages():
    from yardsticks import training_flops

    plain = {"steps_run": 40, "flops_per_step": 1000, "seconds": 2.0}
    stages = [{"steps_run": 50, "flops_per_step": 100}, {"steps_run": 30, "flops_per_step": 300}]
    staged = {"steps_run": 30, "flops_per_step": 300, "seconds": 1.5, "curriculum": {"stages": stages}}
    failed = {"failed": True, "steps_run": 99, "flops_per_step": 99}
    assert training_flops([plain, staged, failed]) == (40 * 1000 + 50 * 100 + 30 * 300, 3.5)
