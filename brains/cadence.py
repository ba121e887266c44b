"""When a run measures select: every step up to `dense`, then every `every` steps, and at
its last step. Dense at first so that an early crossing is seen at the step it happens (a
crossing at step 7 reads 7, not 10), sparse later where a step either way does not matter
and a select pass would cost more than it tells.

Pure functions of the schedule, so that the loop, the FLOP cap and the carry agree on
where evaluations fall and how many a run makes.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cadence:
    every: int = 10
    dense: int = 0   # evaluate at every step up to this one; 0 = only every `every` steps

    def __post_init__(self) -> None:
        if self.every < 1 or self.dense < 0:
            raise ValueError(f"cadence: every must be >= 1 and dense >= 0, got {self.every} and {self.dense}")

    def due(self, step: int) -> bool:
        """Whether the schedule evaluates at this step (a run's last step is evaluated anyway)."""
        return step <= self.dense or step % self.every == 0

    def count(self, n: int) -> int:
        """Evaluations the schedule makes in steps 1..n."""
        if n <= 0:
            return 0
        d = min(n, self.dense)
        return d + n // self.every - d // self.every

    def through(self, n: int) -> int:
        """Evaluations of a run that ends at step n (its last step is evaluated, due or not)."""
        return self.count(n) + (0 if n <= 0 or self.due(n) else 1)

    def billed(self, sparse: bool) -> "Cadence":
        """The evaluations a run is charged for: all it makes, or (`sparse`: the run's
        dense reads only locate a crossing) only those the sparse cadence alone would make
        (every `every` steps, and the last or the crossing step). The dense early reads are
        the instrument's, there to read a crossing's own step; charged, a pass costs up to
        0.8 of a minibatch step (README "Exact step counts")."""
        return Cadence(self.every) if sparse else self

    def last(self, n: int) -> int:
        """The last step at or below n at which the schedule evaluates (0: none)."""
        if n <= self.dense:
            return max(0, n)
        return max(self.dense, n // self.every * self.every)


def charged_cap(budget: int, step_flops: int, eval_flops: int, cadence: Cadence, max_flops: float | None) -> int:
    """The step cap when evaluations are charged: the largest n <= budget whose steps and
    evaluations together (n * step_flops + cadence.through(n) * eval_flops) stay within
    `max_flops`; at least 1, as brains.loop.steps_cap."""
    if max_flops is None:
        return budget

    def cost(n: int) -> int:
        return n * step_flops + cadence.through(n) * eval_flops
    if cost(budget) <= max_flops:
        return budget
    low, high = 1, budget   # cost rises with n: the last n whose cost fits, by bisection
    while low < high:
        mid = (low + high + 1) // 2
        if cost(mid) <= max_flops:
            low = mid
        else:
            high = mid - 1
    return low
