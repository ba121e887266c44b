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
