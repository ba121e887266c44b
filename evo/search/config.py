"""The run's configuration: one frozen dataclass, from defaults, a TOML file and flags.

Stored in the checkpoint; `--resume` compares it with what the user asks for now, so a run
is never silently continued under other rules.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from brains.gene import FAMILIES
from brains.stopping import PLATEAU_SIGNALS
from evo.errors import UserError
from evo.machine import is_mixed, resolve_setting
from evo.search.rungs import budgets as rung_budgets
from evo.search.rungs import check as rung_check
from evo.search.scoring import MISS_RANKS
from evo.settings import TASK_COSTS, RunSettings
from evo.tasks import NAMED, SEED_LIMIT, SELECTS, TaskError, TaskSpec, canonical_op, make_split, symmetric_ceiling
from evo.tasks.expr import ExprError, partial_sums

SCHEDULES = ("alternate", "joint")
SPEED_METRICS = ("flops", "steps", "seconds")
BACKENDS = ("loky", "dask", "ray")
# Settings that may change on resume: how far to go and where to compute, not what.
# Settings whose default changed after checkpoints without them were written: the value
# those runs were made with (RunConfig.stored).
ADDED_LATER = {"hold": 0.0, "select": "all", "second_opinion": False, "rungs": 1, "symmetric_combiners": "on",
               "update_rules": "classic", "eval_dense": 0, "charge_evals": False,
               "dense_locates": False, "objectives": ("cost", "size"), "data_credit": "reached",
               "muon_lr": "shared", "polish": 0, "polish_misses": False,
               "hold_window": False, "immigrants": 0, "polish_floor": 0.0, "give_up": 0.0,
               "ties": "keep", "opinion_to_cap": False, "opinion_rounds": False, "hold_behind": True}
SYMMETRIC_CHOICES = ("auto", "on", "off")
UPDATE_RULES = ("classic", "all")
OBJECTIVE_SETS = (("cost", "size"), ("cost", "size", "data"))
FRACTIONS = (0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05)
DATA_CREDITS = ("reached", "progress")
MUON_LRS = ("shared", "own")
TIES = ("keep", "one")
# The brain genes that only `--update-rules all` varies: held at their defaults under
# `classic`, drawing nothing, so that a classic search draws as it did before they existed.
NEW_RULE_FIELDS = frozenset({"muon", "egalitarian", "lr_schedule"})
# Muon's own learning rate (a multiple of `lr`): varied under --update-rules all with
# --muon-lr own, held at 1 with `shared` (how runs made before the gene existed drew).
MUON_LR_FIELDS = frozenset({"muon_lr_scale"})
RESUMABLE = ("generations", "workers", "device", "backend", "scheduler")


@dataclass(frozen=True)
class RunConfig:
    generations: int = 50
    population: int = 16
    offspring: int = 12
    partners: int = 2
    schedule: str = "alternate"
    # Steps to the threshold: under FLOPs small batches won and needed more steps (README).
    speed_metric: str = "steps"
    task: str = "add"
    p: int = 97
    train_frac: float = 0.5
    select_frac: float = 0.5
    split: str = "random"
    pairs: str = "ordered"
    split_seed: int = 0
    budget: int = 300
    max_flops: float = 1e11
    threshold: float = 0.99
    eval_every: int = 10
    # Exact step counts: select is evaluated at every step up to `eval_dense`, then every
    # `eval_every` steps, and each evaluation's FLOPs count towards the FLOP objective and
    # under the FLOP cap (brains.cadence; README "Exact step counts").
    eval_dense: int = 50
    charge_evals: bool = True
    # The dense reads only locate a crossing: they are not charged, and the plateau stop and
    # a miss's rank read only the eval_every grid. Read as progress, the best of 50 noisy
    # early reads stopped most runs at step 60 and almost none reached (README).
    dense_locates: bool = True
    patience: int = 5
    # What a plateau stop reads (brains.stopping.StopRule.signal): select accuracy, or the rank
    # of the right answer, which moves while accuracy sits at chance (README "Rungs"), or either.
    plateau: str = "accuracy"
    # A crossing at step s counts only if select holds at or above the threshold to the step
    # cap, or to step s + hold * s if later (brains.loop.run): fast members decayed after
    # their crossings (README).
    hold: float = 1.0
    # The hold ends at s + hold * s even before the cap, and the run with it: the steps a
    # reached run spent from 2s to its cap were a third to a half of a polished search's
    # training (README "Polish, measured"). On by default with `opinion_to_cap`, which keeps the
    # members that decay after their window out of the front (README). Off: the crossing holds to the cap.
    hold_window: bool = True
    # Fitness, promotion and the stop rule read only the select pairs whose mirror (y, x) is
    # not a training pair: a symmetric combiner answers the others from memory (README).
    select: str = "unseen-mirror"
    # A pair that would enter the front trains on a second seed first; it keeps the worse run (evo.search.opinions).
    second_opinion: bool = True
    seed: int = 0
    final_seeds: int = 3
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    device: str = "cpu"
    backend: str = "loky"
    scheduler: str = ""
    seed_with: tuple[str, ...] = ()
    # Transformers and ff are opt-in (--brain-families): on the main job they took most of the
    # training time and never reached the threshold, with rungs too (README "Rungs").
    brain_families: tuple[str, ...] = ("mlp",)
    # A generation's MLP pairs padded to a grid of shapes, a cell trained as one batched
    # computation (brains.batched). Off by default: a member's figures then match a lone run
    # within float tolerance, not bit for bit, and on the 2-core CPU it did not pay on the main
    # job's own generations (README, experiments/results/bench_batching_seed0.json).
    batched: bool = False
    # Multi-task fitness (evo.execution.multitask): the operations every pair is scored on, the first
    # standing in for `task`; their costs summed or the worst taken.
    tasks: tuple[str, ...] = ()
    task_cost: str = "sum"
    # Curriculum genes (evo.execution.curriculum) vary only when a pool of earlier operations is given;
    # ("auto",) stands for the partial sums of the task's expression (evo.tasks.expr.partial_sums).
    curriculum_pool: tuple[str, ...] = ()
    # How survival ranks pairs that missed the threshold (evo.search.scoring.objectives): by cost
    # and size like any pair, or by their shortfall alone.
    rank_misses: str = "size"
    # Rungs (evo.search.rungs): a generation's new pairs train on `rungs` budgets rising by
    # `eta` (from `min_budget` if given) up to `budget`, the best 1/eta going on at each; 1 = off.
    rungs: int = 1
    eta: int = 3
    min_budget: int = 0
    # Symmetric combiners (sum, sum_sdr, product) code (x, y) as (y, x): on a non-commutative
    # operation they cannot answer about half of the pairs (evo.tasks.symmetric_ceiling: 0.51
    # on x^3+x*y^2+y mod 97), so `auto` offers them only where that ceiling reaches the threshold.
    symmetric_combiners: str = "auto"
    # The update rules the search varies: classic (AdamW, Adam, SGD at a constant rate after
    # the warm-up), or all (with Muon, the egalitarian gradient and learning-rate schedules,
    # README "Genes"), the default since they and polish took the main job under 20 steps.
    update_rules: str = "all"
    # The objectives survival trades: cost and size, and with `data` the smallest training
    # fraction on the ladder (--train-frac, then the `fractions` below it) at which the pair
    # still reaches the threshold (evo.search.ladder; README "Learning from less").
    objectives: tuple[str, ...] = ("cost", "size")
    fractions: tuple[float, ...] = FRACTIONS
    # The data objective of a pair whose walk missed a fraction: the lowest fraction reached
    # alone, or moved towards the missed one by the miss's progress there
    # (evo.search.ladder.credited; README "Learning from less" gives the measurement).
    data_credit: str = "progress"
    # Muon's learning rate under --update-rules all: the brain's `lr` (shared), or its own
    # multiple of it, a gene (own). Opt-in: given the gene, the searches measured in README
    # "Fast pairs, measured" found no faster pair that used Muon.
    muon_lr: str = "shared"
    # Each generation after the first, the side it varies also tries every gene one step
    # along one field (evo.search.variation.neighbours) of the `polish` fastest front members,
    # each with its own partner: a coordinate line search that mutation reaches only by luck; 0 = off.
    polish: int = 1
    # With polish: when fewer than `polish` front members have reached the threshold, the
    # closest misses (lowest cost, i.e. least shortfall) are polished too, so that the line
    # search climbs before anything groks. Off: polish waits for the first reach.
    polish_misses: bool = False
    # With polish_misses, a miss is polished only once its credited select accuracy reaches this:
    # at chance the closest miss is noise, and polishing it cost an x^3+x*y search about 50
    # pairs a generation for nothing (README "Harder problems, measured"). 0 = any miss.
    polish_floor: float = 0.0
    # Of each generation's `offspring`, this many are fresh random genes rather than mutants
    # (random immigrants). While every pair sits at chance survival ranks noise: a 60-generation
    # x^3+x*y search narrowed onto one encoder family and missed the hand pair's region
    # (README "Harder problems, measured"). 0 = off, as runs made before it drew.
    immigrants: int = 0
    # A new pair's run stops ("beaten") once its crossing would cost more than K times that of a front
    # member no larger (evo.search.giveup); 1: once it can no longer enter the front. 0 = off.
    give_up: float = 1.0
    # A pair that ties a front member on every objective enters beside it (keep) or not (one: evo.search.archive).
    ties: str = "one"
    # The second opinion holds to the step cap, the window off: a later decay keeps the pair out of the front.
    opinion_to_cap: bool = True
    # Second opinions in rounds: a pair that a fresh pair dominates waits, and needs none if that one holds.
    opinion_rounds: bool = True
    hold_behind: bool = False   # a crossing behind its bar is held too; off: it ends there (evo.search.giveup)

    def __post_init__(self) -> None:
        for name in ("generations", "population", "offspring", "partners", "budget", "eval_every",
                     "final_seeds", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"--{name.replace('_', '-')}: must be a whole number >= 1, got {value!r}")
        if self.partners > self.population:
            raise UserError(f"--partners: {self.partners} exceeds --population {self.population}")
        for name, allowed in (("schedule", SCHEDULES), ("speed_metric", SPEED_METRICS), ("rank_misses", MISS_RANKS),
                              ("symmetric_combiners", SYMMETRIC_CHOICES), ("plateau", PLATEAU_SIGNALS),
                              ("update_rules", UPDATE_RULES), ("data_credit", DATA_CREDITS), ("muon_lr", MUON_LRS),
                              ("ties", TIES), ("backend", BACKENDS)):
            if getattr(self, name) not in allowed:
                raise UserError(f"--{name.replace('_', '-')}: {getattr(self, name)!r} is not one of "
                                f"{', '.join(allowed)}")
        if not isinstance(self.device, str) or not (self.device in ("auto", "cpu", "cuda") or is_mixed(self.device)):
            raise UserError(f"--device: {self.device!r} is not one of auto, cpu, cuda, mixed, mixed:FLOPS")
        if isinstance(self.polish_floor, bool) or not isinstance(self.polish_floor, (int, float)) or \
                not 0 <= self.polish_floor <= 1:
            raise UserError(f"--polish-floor: must be a number from 0 to 1, got {self.polish_floor!r}")
        if isinstance(self.immigrants, bool) or not isinstance(self.immigrants, int) or \
                not 0 <= self.immigrants <= self.offspring:
            raise UserError(f"--immigrants: must be a whole number from 0 to --offspring ({self.offspring}), "
                            f"got {self.immigrants!r}")
        if isinstance(self.polish, bool) or not isinstance(self.polish, int) or self.polish < 0:
            raise UserError(f"--polish: must be a whole number >= 0, got {self.polish!r}")
        for name in ("second_opinion", "charge_evals", "dense_locates", "polish_misses", "hold_window",
                     "opinion_to_cap", "opinion_rounds", "hold_behind"):
            if not isinstance(getattr(self, name), bool):
                raise UserError(f"--{name.replace('_', '-')}: expected true or false, got {getattr(self, name)!r}")
        if isinstance(self.eval_dense, bool) or not isinstance(self.eval_dense, int) or self.eval_dense < 0:
            raise UserError(f"--eval-dense: must be a whole number >= 0, got {self.eval_dense!r}")
        if self.select not in SELECTS:
            raise UserError(f"--select: {self.select!r} is not one of {', '.join(SELECTS)}")
        if isinstance(self.hold, bool) or not isinstance(self.hold, (int, float)) or not 0 <= self.hold <= 10:
            raise UserError(f"--hold: must be a number from 0 to 10, got {self.hold!r}")
        self._check_rungs()
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 0:
            raise UserError(f"--patience: must be a whole number >= 0, got {self.patience!r}")
        if not isinstance(self.batched, bool):
            raise UserError(f"--batched: expected true or false, got {self.batched!r}")
        for name in ("threshold", "max_flops", "train_frac", "select_frac"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UserError(f"--{name.replace('_', '-')}: expected a number, got {value!r}")
        for name in ("schedule", "speed_metric", "backend", "device", "scheduler", "task", "split", "pairs"):
            if not isinstance(getattr(self, name), str):
                raise UserError(f"--{name.replace('_', '-')}: expected text, got {getattr(self, name)!r}")
        if not 0 < self.threshold <= 1:
            raise UserError(f"--threshold: must lie in (0, 1], got {self.threshold}")
        if not self.max_flops > 0:
            raise UserError(f"--max-flops: must be > 0, got {self.max_flops}")
        if self.backend == "dask" and not self.scheduler:
            raise UserError("--scheduler: --backend dask needs a scheduler address (tcp://HOST:PORT)")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < SEED_LIMIT:
            raise UserError(f"--seed: expected a whole number from 0 to 2**63-1, got {self.seed!r}")
        if isinstance(self.seed_with, str) or not all(isinstance(n, str) for n in self.seed_with):
            raise UserError(f"--seed-with: expected recipe names, got {self.seed_with!r}")
        object.__setattr__(self, "seed_with", tuple(self.seed_with))
        if isinstance(self.brain_families, str) or not self.brain_families or \
                any(f not in FAMILIES for f in self.brain_families):
            raise UserError(f"--brain-families: expected a comma list of {', '.join(FAMILIES)}, "
                            f"got {self.brain_families!r}")
        object.__setattr__(self, "brain_families", tuple(self.brain_families))
        self._check_tasks()
        self._check_pool()
        self._check_ladder()
        for spec in RunSettings(task=self.task_spec(), tasks=self.tasks).task_specs():
            make_split(spec)  # raises TaskError naming the field, before any training

    def _check_rungs(self) -> None:
        for name, low in (("rungs", 1), ("eta", 2), ("min_budget", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UserError(f"--{name.replace('_', '-')}: must be a whole number >= {low}, got {value!r}")
        if isinstance(self.give_up, bool) or not isinstance(self.give_up, (int, float)) or 0 != self.give_up < 1:
            raise UserError(f"--give-up: must be 0 (off) or a number >= 1, got {self.give_up!r}")
        if self.rungs > 1:
            if self.min_budget >= self.budget:
                raise UserError(f"--min-budget: {self.min_budget} must be below --budget {self.budget}")
            problem = rung_check(self.rung_budgets())
            if problem:
                raise UserError(f"--rungs: {problem}; lower --rungs or --eta, or raise --budget")

    def give_up_clash(self) -> str | None:
        """The option under which --give-up is off: its bar is one run's steps or FLOPs."""
        return next((flag for flag, on in (("--rungs", self.rungs > 1), ("--tasks", self.tasks), ("--objectives with "
                     "data", "data" in self.objectives), ("--speed-metric seconds", self.speed_metric == "seconds"))
                     if on), None)

    def _check_ladder(self) -> None:
        if isinstance(self.objectives, str) or tuple(self.objectives) not in OBJECTIVE_SETS:
            raise UserError(f"--objectives: expected {' or '.join(','.join(s) for s in OBJECTIVE_SETS)}, "
                            f"got {self.objectives!r}")
        object.__setattr__(self, "objectives", tuple(self.objectives))
        if isinstance(self.fractions, str) or not self.fractions or any(
                isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1 for f in self.fractions):
            raise UserError(f"--fractions: expected a comma list of numbers between 0 and 1, got {self.fractions!r}")
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        if not self.data_objective:
            return
        above = [f for f in self.fractions if f > self.train_frac]
        if above:
            raise UserError(f"--fractions: {above[0]:g} exceeds --train-frac {self.train_frac:g}: the ladder walks "
                            "down from the training fraction; raise --train-frac or drop it")
        if not self.ladder():
            raise UserError(f"--fractions: none lies below --train-frac {self.train_frac:g}: the data objective "
                            "needs a smaller fraction to try")
        for frac in self.ladder():
            make_split(dataclasses.replace(self.task_spec(), train_frac=frac, pool_frac=self.train_frac))

    @property
    def data_objective(self) -> bool:
        """Whether survival trades the smallest training fraction too (evo.search.ladder)."""
        return "data" in self.objectives

    def ladder(self) -> list[float]:
        """The data objective's training fractions below --train-frac, largest first (empty
        without the data objective)."""
        if not self.data_objective:
            return []
        return sorted({f for f in self.fractions if f < self.train_frac}, reverse=True)

    def symmetric_offered(self) -> bool:
        """Whether the search may draw symmetric combiners (see the field's comment)."""
        if self.symmetric_combiners != "auto":
            return self.symmetric_combiners == "on"
        specs = RunSettings(task=self.task_spec(), tasks=self.tasks).task_specs()
        return all(symmetric_ceiling(spec.op, spec.p) >= self.threshold for spec in specs)

    def rung_budgets(self) -> list[int]:
        return rung_budgets(self.budget, self.rungs, self.eta, self.min_budget, self.eval_every)

    def _check_tasks(self) -> None:
        if self.task_cost not in TASK_COSTS:
            raise UserError(f"--task-cost: {self.task_cost!r} is not one of {', '.join(TASK_COSTS)}")
        if isinstance(self.tasks, str) or not all(isinstance(t, str) for t in self.tasks):
            raise UserError(f"--tasks: expected a comma list of operations, got {self.tasks!r}")
        if not self.tasks:
            return
        try:
            tasks = tuple(canonical_op(t) for t in self.tasks)
        except TaskError as exc:
            raise UserError(f"--tasks: {exc}") from None
        if len(set(tasks)) < 2 or len(set(tasks)) != len(tasks):
            raise UserError(f"--tasks: expected two or more different operations, got {','.join(self.tasks)!r}")
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "task", tasks[0])

    def _check_pool(self) -> None:
        pool = self.curriculum_pool
        if isinstance(pool, str) or not all(isinstance(t, str) for t in pool):
            raise UserError(f"--curriculum-pool: expected a comma list of operations, got {pool!r}")
        if tuple(pool) == ("auto",):
            try:
                pool = tuple(partial_sums(NAMED.get(self.task, self.task)))
            except ExprError:
                pool = ()
            if not pool:
                raise UserError(f"--curriculum-pool: auto needs a task that is a sum of terms; {self.task!r} "
                                "is not: name the operations")
        try:
            pool = tuple(canonical_op(t) for t in pool)
        except TaskError as exc:
            raise UserError(f"--curriculum-pool: {exc}") from None
        object.__setattr__(self, "curriculum_pool", pool)

    def run_settings(self, device: str | None = None) -> RunSettings:
        """What, besides the pair, fixes each of the search's training runs. The device is
        resolved here, in the driver (float results differ between devices, so it is part of
        the cache key), unless given: a report reads a run on the device it ran on, which
        this machine need not have."""
        return RunSettings(task=self.task_spec(), seed=self.seed, budget=self.budget, max_flops=self.max_flops,
                           threshold=self.threshold, eval_every=self.eval_every, eval_dense=self.eval_dense,
                           charge_evals=self.charge_evals, dense_locates=self.dense_locates,
                           patience=self.patience,
                           plateau=self.plateau,
                           hold=self.hold, hold_window=self.hold_window, select=self.select,
                           device=device or resolve_setting(self.device), batched=self.batched, tasks=self.tasks,
                           task_cost=self.task_cost, curriculum_pool=self.curriculum_pool)

    def task_spec(self) -> TaskSpec:
        return TaskSpec(op=self.task, p=self.p, split=self.split, train_frac=self.train_frac,
                        select_frac=self.select_frac, pairs=self.pairs, split_seed=self.split_seed)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["seed_with"] = list(self.seed_with)
        out["brain_families"] = list(self.brain_families)
        out["tasks"] = list(self.tasks)
        out["curriculum_pool"] = list(self.curriculum_pool)
        out["objectives"] = list(self.objectives)
        out["fractions"] = list(self.fractions)
        return out

    @classmethod
    def stored(cls, data: dict[str, Any]) -> "RunConfig":
        """A checkpoint's config. A setting added after the checkpoint was written takes the
        value the run was made with (ADDED_LATER), not today's default, so that an old run
        resumes as it ran."""
        return cls.from_dict({**ADDED_LATER, **data}, "checkpoint config")

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "RunConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"{source}: unknown key {unknown[0]!r}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise UserError(f"{source}: {exc}") from None


def check_resume(stored: RunConfig, wanted: RunConfig, explicit: set[str]) -> RunConfig:
    """The stored config with the settings a resume may change taken from `wanted`; any
    other setting the user gave explicitly must equal the stored one."""
    for name in sorted(explicit - set(RESUMABLE)):
        if getattr(stored, name) != getattr(wanted, name):
            raise UserError(f"--resume: --{name.replace('_', '-')} {getattr(wanted, name)!r} differs from "
                            f"the run's {getattr(stored, name)!r}; start a new --out instead")
    changes = {name: getattr(wanted, name) for name in RESUMABLE if name in explicit}
    return dataclasses.replace(stored, **changes)
