"""RunSettings: everything besides the pair that fixes a training run's figures, and Job: a
pair with its settings, the unit a worker trains.

One frozen dataclass read by the search (its cache key), the scorer, the evaluator,
`train`, pair files and the final re-checks: a new setting is added here once. Settings
that came after the first checkpoints (hold, its window, select, plateau, batched, multi-task, curriculum pool,
dense evaluations, charged evaluations, dense reads that only locate) are named in
the key only when on, so that the keys of runs made without them stay what they were and
old checkpoints resume on their cache.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from brains.carry import Carry
from brains.stopping import PLATEAU_SIGNALS
from evo.pair import Pair
from evo.tasks import SELECTS, TaskSpec

TASK_COSTS = ("sum", "max")
GIVE_UP_UNITS = ("steps", "flops")
BEHIND = ("", "at", "past")
# Run settings a pair file carries (with its task), so that one command reproduces it.
PAIR_FILE_KEYS = ("seed", "budget", "max_flops", "threshold", "eval_every", "patience", "hold", "select", "plateau",
                  "eval_dense", "charge_evals", "dense_locates", "hold_window")


@dataclass(frozen=True)
class RunSettings:
    """The defaults are those of `python -m evo train` (whose device flag defaults to auto,
    resolved before it gets here); the search's come from its config
    (evo.search.config.RunConfig.run_settings)."""

    task: TaskSpec = field(default_factory=TaskSpec)
    seed: int = 0
    budget: int = 1000
    max_flops: float | None = None      # lowers the step cap of expensive models
    threshold: float = 0.99             # select accuracy that counts as generalized
    eval_every: int = 10
    eval_dense: int = 0                 # evaluate at every step up to this one (brains.cadence); 0 = never
    charge_evals: bool = False          # select passes count as FLOPs, in the figures and under max_flops
    dense_locates: bool = False         # dense reads only locate a crossing: not charged, not read by the plateau stop or a miss's rank
    patience: int = 0                   # evaluations (spans of eval_every steps, with eval_dense) without gain before a plateau stop; 0 = never
    plateau: str = "accuracy"           # the figure that must gain: select accuracy, the right answer's rank, or either
    hold: float = 0.0                   # a crossing at s must hold to max(cap, s + hold*s); 0 = the first counts
    hold_window: bool = False           # the hold ends at s + hold*s even before the cap, and so does the run
    select: str = "all"                 # the select pairs scored: all, or unseen-mirror (Split.scored_select)
    device: str = "cpu"                 # resolved (cpu or cuda): float results differ between devices
    batched: bool = False               # MLPs padded to a grid of shapes, a cell trained as one (brains.batched)
    tasks: tuple[str, ...] = ()         # multi-task fitness: the operations, the first being task.op
    task_cost: str = "sum"              # multi-task: costs summed or the worst
    curriculum_pool: tuple[str, ...] = ()  # the operations a curriculum gene's indices name
    # the search's bar (evo.search.giveup): (params, cost) of its front members; a run stops
    # as "beaten" once its crossing would cost at least the least cost among those no larger
    # (brains.loop.run). Not in the cache key: the search stores such a run as the pair's
    # record, as it does a lower rung's verdict, and a pair it may still enter the front with
    # trains to the same figures as without a bar.
    give_up: tuple[tuple[int, float], ...] = ()
    give_up_in: str = "steps"           # the bar's unit: steps or flops (the speed metric)
    behind: str = ""                    # "at"/"past": a crossing at/past its bar ends unheld (brains.loop.run)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "curriculum_pool", tuple(self.curriculum_pool))
        object.__setattr__(self, "give_up", tuple((int(n), float(c)) for n, c in self.give_up))
        if self.behind not in BEHIND:
            raise ValueError(f"behind: {self.behind!r} is not one of {BEHIND}")
        if self.give_up_in not in GIVE_UP_UNITS:
            raise ValueError(f"give_up_in: {self.give_up_in!r} is not one of {', '.join(GIVE_UP_UNITS)}")
        if not (isinstance(self.hold, (int, float)) and 0 <= self.hold <= 10):
            raise ValueError(f"hold: {self.hold!r} is not a number from 0 to 10")
        if self.plateau not in PLATEAU_SIGNALS:
            raise ValueError(f"plateau: {self.plateau!r} is not one of {', '.join(PLATEAU_SIGNALS)}")
        if self.select not in SELECTS:
            raise ValueError(f"select: {self.select!r} is not one of {', '.join(SELECTS)}")
        if self.task_cost not in TASK_COSTS:
            raise ValueError(f"task_cost: {self.task_cost!r} is not one of {', '.join(TASK_COSTS)}")

    def to_dict(self) -> dict[str, Any]:
        """The canonical form, and the cache key's other half (see the module docstring)."""
        out: dict[str, Any] = {"task": self.task.to_dict(), "seed": self.seed, "budget": self.budget,
                               "max_flops": self.max_flops, "threshold": self.threshold,
                               "eval_every": self.eval_every, "patience": self.patience, "device": self.device}
        if self.hold:
            out["hold"] = self.hold
        if self.hold_window and self.hold:
            out["hold_window"] = True
        if self.eval_dense:
            out["eval_dense"] = self.eval_dense
        if self.charge_evals:
            out["charge_evals"] = True
        if self.dense_locates and self.eval_dense:
            out["dense_locates"] = True
        if self.select != "all":
            out["select"] = self.select
        if self.plateau != "accuracy":
            out["plateau"] = self.plateau
        if self.batched:
            out["batched"] = True
        if self.tasks:
            out["tasks"], out["task_cost"] = list(self.tasks), self.task_cost
        if self.curriculum_pool:
            out["curriculum_pool"] = list(self.curriculum_pool)
        return out

    def bar(self, params: int) -> float | None:
        """The give-up bar of a network of `params` weights: the least cost of a front member
        no larger (one that any later crossing of it would leave dominated); None: none is."""
        costs = [cost for n, cost in self.give_up if n <= params]
        return min(costs) if costs else None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunSettings":
        data = dict(data)
        data["task"] = TaskSpec.from_dict(data["task"])
        return cls(**data)

    def with_seed(self, seed: int, **changes: Any) -> "RunSettings":
        return dataclasses.replace(self, seed=seed, **changes)

    def task_specs(self) -> list[TaskSpec]:
        """One spec per operation trained: the `tasks`, or the one `task`."""
        return [dataclasses.replace(self.task, op=op) for op in self.tasks or (self.task.op,)]

    def pair_file(self, pair: Pair) -> dict[str, Any]:
        """A pair file: the genes, the task and the run settings `train --pair` reads back
        (not the device or the batching: a pair file reproduces anywhere, alone); the
        curriculum pool only when the brain names operations in it."""
        out = {**pair.to_dict(), "task": self.task.to_dict(), **{k: getattr(self, k) for k in PAIR_FILE_KEYS}}
        if pair.brain.curriculum:
            out["curriculum_pool"] = list(self.curriculum_pool)
        return out


@dataclass(frozen=True)
class Job:
    """One training run for a worker: picklable as it is, so every joblib backend ships it
    the same way, and its record depends on nothing else (not on the backend or the number
    of workers). A re-check (`report_holdout`) measures holdout after training and sends
    its trained weights back, for `inspect`. A rung's run may `keep` its state at its cap
    for the next rung (record["carry"]), and a promoted run `start` from it (brains.carry):
    its record is the same either way."""

    pair: Pair
    settings: RunSettings
    report_holdout: bool = False
    start: Carry | None = None
    keep: bool = False

    @property
    def seed(self) -> int:
        return self.settings.seed
