"""The stop rule, on hand-written learning curves."""
from brains.stopping import StopRule, decide, diverged


def curve(selects, trains=None):
    trains = trains or [1.0] * len(selects)
    return [{"step": 10 * (i + 1), "select_acc": s, "train_acc": t} for i, (s, t) in enumerate(zip(selects, trains))]


def test_threshold_wins():
    assert decide(curve([0.1, 0.995]), StopRule(patience=1)) == "threshold"


def test_no_plateau_without_patience():
    assert decide(curve([0.01] * 50), StopRule(patience=0)) is None


def test_plateau_after_patience_evaluations_without_gain():
    rule = StopRule(patience=3)
    assert decide(curve([0.01, 0.012, 0.011, 0.015]), rule) == "plateau"
    assert decide(curve([0.01, 0.012, 0.011]), rule) is None           # not enough history yet
    assert decide(curve([0.01, 0.012, 0.011, 0.03]), rule) is None     # a gain of 0.02 keeps it going


def test_train_saturation_condition():
    rule = StopRule(patience=2, saturated=0.99)
    assert decide(curve([0.0, 0.0, 0.0], [0.5, 1.0, 1.0]), rule) == "plateau"
    assert decide(curve([0.0, 0.0, 0.0], [0.5, 0.9, 1.0]), rule) is None


def test_divergence():
    assert diverged(float("nan")) and diverged(float("inf")) and diverged(2e6) and not diverged(3.0)


def test_a_rank_plateau_waits_while_the_rank_falls_and_accuracy_sits_at_chance():
    """Accuracy flat at chance for seven evaluations while the rank of the right answer falls:
    the accuracy rule stops the run, the rank rule does not; flat ranks stop both."""
    falling = [{"select_acc": 0.01, "train_acc": 1.0, "select_rank": 0.5 - 0.03 * k} for k in range(7)]
    flat = [{"select_acc": 0.01, "train_acc": 1.0, "select_rank": 0.5} for _ in range(7)]
    assert decide(falling, StopRule(patience=5)) == "plateau"
    assert decide(falling, StopRule(patience=5, signal="rank")) is None
    assert decide(flat, StopRule(patience=5, signal="rank")) == "plateau"
