"""When a training run ends: threshold reached, hopeless, diverged, or beaten (by what a
crossing would cost, against the give-up bar).

Read by brains.loop, the one loop of the one-model and the batched trainer, so that a pair
stops at the same step either way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from brains.cadence import Cadence

DIVERGED_LOSS = 1e6   # a loss this large, or not finite, ends the run as diverged


@dataclass(frozen=True)
class StopRule:
    """`patience` evaluations or spans (0 = never) over which the best select accuracy rose by less
    than `min_gain`, with train accuracy >= `saturated` at each, end a run as a plateau.
    It only reads the curve the run already has, and the run is recorded as stopped.

    `saturated` is 0 by default: with the train accuracy condition at 0.99 (memorized, yet
    not generalizing), the main job stopped 1 of its 599 runs, since most runs never
    memorize within the search's 300-step budget."""

    threshold: float = 0.99
    patience: int = 0
    saturated: float = 0.0
    min_gain: float = 0.01
    # what must gain: "accuracy" (select accuracy), "rank" (the right answer's select rank
    # falls by min_gain) or "either" of them (see `read`): on a hard operation the rank moves
    # while accuracy sits at chance, so an accuracy plateau stops runs that were on their way
    signal: str = "accuracy"
    # what patience counts: evaluations (0), or spans of this many steps, so that a run that
    # evaluates at every early step (brains.cadence) is not judged on a few steps' noise
    span: int = 0
    # with a span: read a plateau only at, and from, the points on the span's grid (steps
    # that are multiples of it), as a run that never evaluated densely would. Measured: the
    # best of 50 dense reads, noise included, stopped 798 of the main job's 1,188 runs at
    # step 60, and 2 of them reached the threshold (48 before dense reads; README "Exact step counts")
    grid: bool = False


PLATEAU_SIGNALS = ("accuracy", "rank", "either")


def run_rule(threshold: float, patience: int, plateau: str, eval_every: int, dense: int,
             dense_locates: bool) -> StopRule:
    """The rule a run with these settings stops by: with dense early reads, patience counts
    spans of eval_every steps, read on that grid alone when the dense reads only locate a
    crossing. One place, so that a replay of a recorded curve stops where the run would."""
    return StopRule(threshold=threshold, patience=patience, signal=plateau, span=eval_every if dense else 0,
                    grid=dense_locates and dense > 0)


def progress(point: dict[str, float], signal: str) -> float:
    """The figure a plateau is read on, higher better (a point without a rank is at chance)."""
    return point["select_acc"] if signal == "accuracy" else -point.get("select_rank", 0.5)


def diverged(loss: float) -> bool:
    return not math.isfinite(loss) or abs(loss) > DIVERGED_LOSS


def decide(curve: list[dict[str, float]], rule: StopRule) -> str | None:
    """"threshold", "plateau" or None (go on), from the evaluations so far."""
    if curve[-1]["select_acc"] >= rule.threshold:
        return "threshold"
    if not rule.patience:
        return None
    if rule.grid and rule.span:
        if curve[-1]["step"] % rule.span:
            return None
        curve = [p for p in curve if p["step"] % rule.span == 0]
        cut = len(curve) - rule.patience
    elif rule.span:
        start = curve[-1]["step"] - rule.patience * rule.span
        cut = sum(p["step"] <= start for p in curve)
    else:
        cut = len(curve) - rule.patience
    if cut > 0:
        window = curve[cut:]
        if all(p["train_acc"] >= rule.saturated for p in window) and \
                not any(gained(curve[:cut], window, signal, rule.min_gain) for signal in read(rule.signal)):
            return "plateau"
    return None


def read(signal: str) -> tuple[str, ...]:
    """The figures whose gain keeps a run going: "either" is the rank or accuracy. Near the
    threshold the right answer's rank is already about 0.001 and cannot fall by min_gain,
    so the rank alone stopped x^3+x*y's two best misses at 0.986 and 0.987 select while their
    accuracy still rose by 0.01-0.02 every 10 steps (README "Harder problems, measured").
    "rank" keeps reading the rank alone: the searches measured with it reproduce."""
    return ("rank", "accuracy") if signal == "either" else (signal,)


def gained(before: list[dict[str, float]], window: list[dict[str, float]], signal: str, min_gain: float) -> bool:
    return max(progress(p, signal) for p in window) >= max(progress(p, signal) for p in before) + min_gain


def crossing_cost(curve: list[dict[str, float]], step: int, flops: tuple[int, int], counted: Cadence | None,
                  unit: str) -> float:
    """What a crossing at `step` (the curve's last point) would cost: the step, or its FLOPs
    as member_result counts them (the steps, and the evaluations charged up to it)."""
    if unit == "steps":
        return float(step)
    evals = sum(p["step"] <= step and (counted is None or counted.due(p["step"]) or p["step"] == step)
                for p in curve)
    return float(step * flops[0] + evals * flops[1])
