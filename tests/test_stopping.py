"""The stop rule, on hand-written learning curves."""
from brains.stopping import PLATEAU_SIGNALS, StopRule, decide, diverged


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


def test_either_plateau_waits_while_accuracy_climbs_with_the_rank_at_its_floor():
    """Near the threshold the right answer's rank sits at 0.001 and cannot fall by min_gain:
    accuracy rising by 0.015 an evaluation keeps the run going under "either" and "accuracy",
    and the rank alone stops it (the README's x^3+x*y misses at 0.986 and 0.987); when
    neither moves, all three stop it. A falling rank at chance keeps "either" going too."""
    climbing = [{"select_acc": 0.85 + 0.015 * k, "train_acc": 1.0, "select_rank": 0.001} for k in range(7)]
    stuck = [{"select_acc": 0.95, "train_acc": 1.0, "select_rank": 0.001} for _ in range(7)]
    falling = [{"select_acc": 0.01, "train_acc": 1.0, "select_rank": 0.5 - 0.03 * k} for k in range(7)]
    assert decide(climbing, StopRule(patience=5, signal="either")) is None
    assert decide(climbing, StopRule(patience=5, signal="accuracy")) is None
    assert decide(climbing, StopRule(patience=5, signal="rank")) == "plateau"
    for signal in PLATEAU_SIGNALS:
        assert decide(stuck, StopRule(patience=5, signal=signal)) == "plateau"
    assert decide(falling, StopRule(patience=5, signal="either")) is None


def test_on_the_grid_a_lucky_dense_read_does_not_stop_a_climbing_run():
    """Dense reads at steps 1-50 (one lucky read of 0.3 at step 7), then the 10-step grid
    climbing by 0.01 per read: counted in spans the lucky read is the best to beat and the
    run stops at step 60; read on the grid it is climbing, as a run without dense reads."""
    points = [{"step": s, "train_acc": 1.0, "select_acc": 0.3 if s == 7 else 0.02} for s in range(1, 51)]
    for s in points:
        if s["step"] % 10 == 0:
            s["select_acc"] = 0.01 + s["step"] / 1000
    points.append({"step": 60, "train_acc": 1.0, "select_acc": 0.07})
    assert decide(points, StopRule(patience=5, span=10)) == "plateau"
    assert decide(points, StopRule(patience=5, span=10, grid=True)) is None
    flat = [dict(p, select_acc=0.02) for p in points]
    assert decide(flat, StopRule(patience=5, span=10, grid=True)) == "plateau"
    off = flat[:50] + [{"step": 55, "train_acc": 1.0, "select_acc": 0.02}]
    assert decide(off, StopRule(patience=5, span=10, grid=True)) is None   # step 55: off the grid
