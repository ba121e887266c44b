"""The training loop, one for every trainer: a lone model (brains.train) and a group of
models padded to one shape and trained as one batched computation (brains.batched).

The loop owns what must not differ between the two, so that a pair stops at the same step
and gets the same figures either way: the step cap (lowered by a FLOP budget), the
evaluation cadence, the stop rule (brains.stopping), the divergence checks, the train
figures and the TrainResult. A back end owns only the computation: a step of every live
member, an evaluation of every live member, and dropping members that have finished.

Members are numbered 0..n-1 by the caller; the back end's rows are the live members in
that order (a dropped member's row goes, the rest close up).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple, Protocol

import torch

from brains.cadence import Cadence, charged_cap
from brains.carry import Carry
from brains.stopping import crossing_cost, decide, diverged, run_rule


@dataclass
class TrainData:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_select: torch.Tensor
    y_select: torch.Tensor
    n_classes: int


@dataclass
class TrainResult:
    steps_to_threshold: int | None
    seconds_to_threshold: float | None
    steps_run: int
    steps_cap: int
    seconds: float
    flops_per_step: int
    diverged: bool
    stopped: str  # "threshold", "budget", "plateau", "diverged", "beaten" or "behind" (run's `give_up`)
    train_acc: float
    select_acc: float
    train_loss: float
    select_loss: float
    curve: list[dict[str, float]] = field(default_factory=list)
    flops_per_eval: int = 0     # charged per evaluation (run's `charge_evals`); 0: evaluations ride free
    evals_run: int = 0          # the member's evaluations (its points, a diverged step's none)
    evals_to_threshold: int | None = None   # of them, those up to and including the crossing
    eval_seconds: float = 0.0   # of `seconds`, spent in evaluations (a group's: all of its members')
    crossings_lost: int = 0     # crossings that did not hold (run's `hold`)
    carry: Carry | None = None  # its state to go on from (run's `keep`)


class StepOut(NamedTuple):
    """What one training step of the live members gives back, one entry per row."""

    losses: torch.Tensor            # [rows] each member's batch loss, detached, on the device
    correct: torch.Tensor | None    # [rows] right answers in the batch; None: no logits (forward-forward)
    rows: list[int]                 # each live member's batch rows (its own, not a padded count)


class Evaluation(NamedTuple):
    """One live member measured at an evaluation."""

    select_acc: float
    select_loss: float
    train_acc: float | None = None  # set by a back end whose steps give no right answers (forward-forward)
    select_rank: float | None = None  # brains.losses.outranked over select: progress before accuracy moves
    unread: bool = False    # asked to read only as far as needed (`under`): surely under it, figures unread


class Backend(Protocol):
    """The computation under the loop. `step_flops[i]` is member i's own FLOPs per training
    step (a padded member's count is its own network's, not the padding's); `eval_flops[i]`
    the FLOPs of one evaluation that a step is charged for (spread over the steps between
    evaluations: forward-forward prediction tries every answer)."""

    step_flops: list[int]
    eval_flops: list[int]
    device: torch.device

    def step(self) -> StepOut: ...

    def evaluate(self, under: list[float | None] | None = None) -> list[Evaluation]:
        """Every live row's select figures; a row whose `under` is set may come back unread
        once its accuracy is surely below that (a back end may also read it all)."""

    def drop(self, rows: list[int]) -> None:
        """These rows have finished: leave their trained weights in their modules and stop
        training them."""

    # A back end whose runs can be carried (brains.carry) also has `state(row) -> bytes`
    # and `load(bytes)`: everything its next step depends on.


class Batches:
    """Endless minibatch indices: a fresh seeded permutation every epoch; None = full batch.
    An iterator whose place can be saved and restored (a carried run goes on mid-epoch)."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, device: torch.device):
        self.n, self.size, self.generator, self.device = n, batch_size, generator, device
        self.full = batch_size <= 0 or batch_size >= n
        self.perm: torch.Tensor | None = None
        self.at = 0

    def __iter__(self) -> Iterator[torch.Tensor | None]:
        return self

    def __next__(self) -> torch.Tensor | None:
        if self.full:
            return None
        if self.perm is None or self.at + self.size > self.n:
            self.perm, self.at = torch.randperm(self.n, generator=self.generator).to(self.device), 0
        self.at += self.size
        return self.perm[self.at - self.size:self.at]

    def state(self) -> dict[str, object]:
        return {"perm": None if self.perm is None else self.perm.cpu(), "at": self.at,
                "generator": self.generator.get_state()}

    def load(self, state: dict[str, object]) -> None:
        perm = state["perm"]
        self.perm = None if perm is None else perm.to(self.device)  # type: ignore[union-attr]
        self.at = int(state["at"])  # type: ignore[arg-type]
        self.generator.set_state(state["generator"])  # type: ignore[arg-type]


def steps_cap(budget: int, flops_per_step: int, max_flops: float | None) -> int:
    """The step cap: `budget`, lowered so that no run costs more than `max_flops` training
    FLOPs (a bound that, unlike a time limit, is the same on every machine)."""
    if max_flops is None:
        return budget
    return max(1, min(budget, int(max_flops // max(1, flops_per_step))))


class Clock:
    """Seconds since the start, less the time spent in `paused` (the report's extra figures)."""

    def __init__(self, already: float = 0.0) -> None:
        self.start = time.perf_counter() - already

    def __call__(self) -> float:
        return time.perf_counter() - self.start

    def pause(self, since: float) -> None:
        self.start += time.perf_counter() - since


def member_result(curve: list[dict[str, float]], reached: tuple[int, float] | None, step: int, cap: int,
                  seconds: float, flops: tuple[int, int], stopped: str, batch_loss: float | None = None,
                  eval_seconds: float = 0.0, lost: int = 0, carry: Carry | None = None,
                  billed: Cadence | None = None) -> TrainResult:
    """A member's TrainResult: the figures of its last evaluation (none yet: zero accuracy,
    NaN losses), its train loss replaced by the batch loss that blew up, if one did.
    `billed`: the cadence whose evaluations are charged (None: all the curve's points)."""
    last = curve[-1] if curve else dict(train_acc=0.0, select_acc=0.0, train_loss=math.nan, select_loss=math.nan)
    return TrainResult(steps_to_threshold=reached[0] if reached else None,
                       seconds_to_threshold=reached[1] if reached else None, steps_run=step, steps_cap=cap,
                       seconds=seconds, flops_per_step=flops[0], flops_per_eval=flops[1], evals_run=len(curve),
                       evals_to_threshold=None if reached is None else
                       sum(p["step"] <= reached[0] and (billed is None or billed.due(p["step"])
                                                        or p["step"] == reached[0]) for p in curve),
                       diverged=stopped == "diverged", stopped=stopped,
                       train_acc=last["train_acc"], select_acc=last["select_acc"],
                       train_loss=last["train_loss"] if batch_loss is None else batch_loss,
                       select_loss=last["select_loss"], curve=curve, eval_seconds=eval_seconds,
                       crossings_lost=lost, carry=carry)


def run(backend: Backend, members: int, *, budget: int, threshold: float = 0.99, eval_every: int = 10,
        max_flops: float | None = None, patience: int = 0, run_on: bool = False, hold: float = 0.0,
        hold_window: bool = False, plateau: str = "accuracy",
        on_eval: Callable[[int, dict[str, float]], None] | None = None,
        extra: Callable[[int], dict[str, float]] | None = None, start: Carry | None = None,
        keep: bool = False, dense: int = 0, charge_evals: bool = False,
        dense_locates: bool = False, give_up: list[float | None] | None = None,
        give_up_in: str = "steps", behind: str = "") -> list[TrainResult]:
    """Train `members` members on `backend`; their results, in member order.

    Evaluates at every step up to `dense`, then at multiples of eval_every (brains.cadence),
    and at the last step: select accuracy and loss over the whole select set; train accuracy
    and loss over the training batches of the steps since the previous evaluation, from their
    own forward passes (no second pass over the training set; summed on the device and read at
    evaluations only, so no per-step sync). A member stops at the first evaluation with select
    accuracy >= threshold, on a plateau (brains.stopping.StopRule; patience 0 = never), or
    when its loss diverges; the others go on. With `run_on`, a member that reached the
    threshold goes on to the step cap (the first crossing stays its figure; brains.train.train
    says why).

    `hold` > 0: a crossing at step s counts only if select stays at or above the threshold
    at every evaluation to the end of the run, its step cap or step s + ceil(hold * s),
    whichever is later (so a late crossing is checked at least as long again, past the cap if
    need be); one that falls below is lost (`crossings_lost`), and the member trains on as if
    it never crossed. The speed figure stays the crossing step. 0: the first crossing counts
    and ends the run (the old rule). `hold_window`: the hold ends at s + ceil(hold * s) even
    before the cap, and the run with it (unless `run_on`): the steps from 2s to the cap cost
    reached runs a third to a half of a polished search's training (README "Polish, measured").

    `on_eval(member, point)` sees each evaluation point; `extra(member)` adds figures to it
    (the report's holdout curve) and its time is left out of the clock. Nothing decides on
    either. `extra` reads the member's module, so it needs a back end that trains in place.

    `charge_evals`: each select evaluation costs its forward FLOPs (the result's
    `flops_per_eval`, its `evals_run` and `evals_to_threshold` count them), and the FLOP cap
    covers steps and evaluations together (brains.cadence.charged_cap). Off: evaluations
    ride free but a forward-forward network's, spread over the steps between them (the rule
    before exact step counts). With `dense`, the plateau's patience counts spans of
    eval_every steps rather than evaluations, so that dense early evaluations do not
    shorten it. `dense_locates`: the dense reads only locate a crossing. Only the
    evaluations the sparse cadence alone would make are charged (brains.cadence.Cadence.billed),
    and the plateau stop reads only the points on the eval_every grid (brains.stopping), so
    that the best of 50 noisy early reads does not stop a run at step 60.

    `give_up[i]`: a bar in `give_up_in` units (steps, or FLOPs as a crossing's figure counts
    them): member i stops as "beaten" at the first evaluation, outside a hold, at which a
    crossing would already cost at least that much, since any later one costs more (the
    search's bar from its front, evo.search.giveup). None: no bar. `behind` "at" ("past"): with
    a hold, a crossing costing at least (more than) its bar ends the run, unheld, as "behind"
    (it cannot enter the front, held or not: evo.search.giveup); "": every crossing is held.

    Carrying (one member, a back end with `state` and `load`): `keep` sets each result's
    `carry`, the state at the last evaluation on the cadence at or below its step cap, if a
    run with a larger cap would go on from there (not stopped on a plateau, diverged or at a
    crossing that needs no hold); `start` goes on from such a carry. Going on from a carry
    to a cap gives the figures of one run to that cap (its seconds aside): the curve, the
    stop rule and the hold window are read from the carried curve and crossing.
    """
    if (start is not None or keep) and members != 1:
        raise ValueError("a run is carried alone (members=1)")
    cadence = Cadence(eval_every, dense)
    billed = cadence.billed(dense_locates)
    counted = billed if dense_locates else None   # the reads a crossing's FLOPs count (None: all)
    if charge_evals:    # (per step, per evaluation)
        flops = list(zip(backend.step_flops, backend.eval_flops))
        caps = [charged_cap(budget, s, e, billed, max_flops) for s, e in flops]
    else:
        flops = [(s + e // eval_every, 0) for s, e in zip(backend.step_flops, backend.eval_flops)]
        caps = [steps_cap(budget, f, max_flops) for f, _ in flops]   # each member's own, by its own FLOPs
    ends = list(caps)            # where each member stops at the latest: its cap, or its hold window's end

    def window(i: int, crossed: int) -> tuple[int, int]:
        """(until, end): the step to which a crossing at `crossed` must hold, and where the run ends."""
        until = crossed + math.ceil(hold * crossed)
        if not hold_window:
            until = max(caps[i], until)
        return until, max(caps[i], until) if run_on else until

    until = [0] * members        # the step to which the current crossing must hold
    lost = [0] * members         # crossings that did not hold
    unheld = [False] * members   # crossed behind its bar: ends there, unheld (`behind`)
    rule = run_rule(threshold, patience, plateau, eval_every, dense, dense_locates)

    def locating(i: int) -> bool:
        """Member i's read at this step only locates a crossing (dense_locates, off the grid, no
        crossing to hold, not its last step or its carry's, no bar met here, no `extra`). Under
        the threshold it is not kept (its steps count in the next point's train figures), so
        the back end may stop reading once it is surely under: the same decisions and kept
        points as a whole read, at a fraction of its cost far from the threshold."""
        return dense_locates and extra is None and reached[i] is None and not billed.due(step) and \
            step != ends[i] and not (keep and step == snap[i]) and not (
                give_up and give_up[i] is not None and crossing_cost(
                    curves[i] + [{"step": step}], step, flops[i], counted, give_up_in) >= give_up[i])

    def is_behind(i: int) -> bool:
        """Member i's crossing, at this step, leaves it behind its bar (see `behind`)."""
        bar = give_up[i] if give_up and behind and not run_on else None
        spent = crossing_cost(curves[i], step, flops[i], counted, give_up_in) if bar is not None else 0.0
        return bar is not None and (spent > bar or (behind == "at" and spent == bar))
    live = list(range(members))         # the member of each back-end row
    curves: list[list[dict[str, float]]] = [[] for _ in range(members)]
    reached: list[tuple[int, float] | None] = [None] * members   # (step, seconds) of the first crossing
    results: list[TrainResult | None] = [None] * members
    correct = torch.zeros(members, dtype=torch.long, device=backend.device)
    loss_sum = torch.zeros(members, device=backend.device)
    last = [0] * members      # per row: the step of its last evaluation (its counts run from there)
    clock = Clock(start.seconds if start else 0.0)
    in_evals = start.eval_seconds if start else 0.0   # seconds evaluating (the profile of issue 16)
    step = 0
    snap = [cadence.last(cap) for cap in caps]   # where `keep` takes its carry
    carries: list[Carry | None] = [None] * members
    if start is not None:
        if start.step > caps[0]:
            raise ValueError(f"a carry from step {start.step} cannot go on under a step cap of {caps[0]}")
        step = last[0] = start.step
        curves[0], reached[0], lost[0] = list(start.curve), start.reached, start.lost
        if reached[0] is not None:   # inside its hold window: the window's end under this cap
            until[0], ends[0] = window(0, reached[0][0])
        backend.load(start.state)  # type: ignore[attr-defined]
    while live and step < max(ends[i] for i in live):
        out = backend.step()
        if out.correct is not None:
            correct += out.correct
        loss_sum += out.losses
        step += 1
        due = [row for row, i in enumerate(live) if cadence.due(step) or step == ends[i]]
        if not due:
            continue

        # Evaluate: the train figures since the last evaluation, then the select set.
        began = time.perf_counter()
        # one read of the three (a sync on a GPU); float64 holds each exactly
        batch_losses, train_correct, train_loss_sum = torch.stack(
            [out.losses.double(), correct.double(), loss_sum.double()]).tolist()
        train_correct = [int(c) for c in train_correct]
        blew_up = [diverged(loss) for loss in batch_losses]
        under = [threshold if locating(i) else None for i in live]
        evals = [] if all(blew_up[row] for row in due) else backend.evaluate(under)
        in_evals += time.perf_counter() - began
        done: list[int] = []
        unkept: list[int] = []
        for row in due:
            i = live[row]
            if blew_up[row]:  # its last batch loss: no evaluation point for this member
                results[i] = member_result(curves[i], reached[i] if step > until[i] else None, step, caps[i],
                                           clock(), flops[i], "diverged", batch_loss=batch_losses[row],
                                           eval_seconds=in_evals, lost=lost[i], billed=counted)
                done.append(row)
                continue
            ev, since = evals[row], step - last[row]   # a member's batch rows are the same every step
            if under[row] is not None and (ev.unread or ev.select_acc < threshold):
                unkept.append(row)
                continue
            point = {"step": step,
                     "train_acc": train_correct[row] / (since * out.rows[row]) if ev.train_acc is None
                     else ev.train_acc,
                     "select_acc": ev.select_acc,
                     "train_loss": train_loss_sum[row] / since,
                     "select_loss": ev.select_loss}
            if ev.select_rank is not None:
                point["select_rank"] = ev.select_rank
            if extra is not None:
                paused = time.perf_counter()
                point.update(extra(i))
                clock.pause(paused)
            curves[i].append(point)
            if on_eval is not None:
                on_eval(i, point)

            # Decide: stop this member, or let it go on.
            verdict = "diverged" if diverged(point["train_loss"]) else decide(curves[i], rule)
            if verdict == "threshold" and reached[i] is None:      # a crossing, to hold until `until`
                reached[i] = (step, clock())
                unheld[i] = bool(hold) and is_behind(i)
                if hold and not unheld[i]:
                    until[i], ends[i] = window(i, step)
                else:
                    until[i], ends[i] = step, max(caps[i], step)
            elif reached[i] is not None and step <= until[i] and point["select_acc"] < threshold:
                reached[i], ends[i] = None, caps[i]               # it did not hold
                lost[i] += 1
            held = reached[i] is not None and step >= until[i]
            if verdict == "diverged":
                stopped = verdict
            elif held:
                stopped = ("behind" if unheld[i] else "threshold") if not run_on or step == ends[i] else None
            elif reached[i] is not None:                          # inside its hold window
                stopped = None
            elif verdict == "plateau":
                stopped = verdict
            elif give_up and give_up[i] is not None and \
                    crossing_cost(curves[i], step, flops[i], counted, give_up_in) >= give_up[i]:
                stopped = "beaten"
            else:
                stopped = "budget" if step >= ends[i] else None
            if keep and step == snap[i] and verdict != "diverged" and \
                    (bool(hold) and not (hold_window and step >= until[i]) if reached[i] is not None
                     else verdict != "plateau"):
                carries[i] = Carry(step, list(curves[i]), reached[i], lost[i], clock(), in_evals,
                                   backend.state(row))  # type: ignore[attr-defined]
            if stopped is None:
                continue
            results[i] = member_result(curves[i], reached[i], step, caps[i], clock(), flops[i], stopped,
                                       eval_seconds=in_evals, lost=lost[i], carry=carries[i], billed=counted)
            done.append(row)
        kept = [row for row in due if row not in unkept]
        fresh = torch.tensor(kept, dtype=torch.long, device=backend.device)   # a new count from here
        correct[fresh] = 0
        loss_sum[fresh] = 0.0
        for row in kept:
            last[row] = step
        if done:
            backend.drop(done)
            rest = [row for row in range(len(live)) if row not in done]
            live = [live[row] for row in rest]
            rows = torch.tensor(rest, dtype=torch.long, device=backend.device)
            correct, loss_sum = correct[rows], loss_sum[rows]
            last = [last[row] for row in rest]

    if live:  # a step cap of 0: nothing trained, nothing measured
        for i in live:
            results[i] = member_result(curves[i], reached[i], step, caps[i], clock(), flops[i], "budget",
                                       eval_seconds=in_evals, billed=counted)
        backend.drop(list(range(len(live))))
    assert all(r is not None for r in results), "every member ends with a result"
    return results  # type: ignore[return-value]
