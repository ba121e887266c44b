"""A run's state at an evaluation, so that a longer run can go on from it instead of
training the same steps again (the rungs of evo.search.rungs promote a pair to a larger
budget).

Runs are deterministic: going on from a carry to a larger cap gives the figures a single
run to that cap gives (the tests check it against such a run), so a carry that is lost (a
worker killed, a search resumed) costs only the time to train the prefix again.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Carry:
    """Taken right after an evaluation on the cadence, where the train figures' running
    sums start afresh, so the loop needs nothing but these to go on."""

    step: int
    curve: list[dict[str, float]]
    reached: tuple[int, float] | None   # (step, seconds) of a crossing still inside its hold window
    lost: int                           # crossings that did not hold
    seconds: float                      # the run's clock so far
    eval_seconds: float
    state: bytes                        # the back end's own (brains.train.Lone.state)

    @property
    def size(self) -> int:
        return len(self.state)


def to_bytes(state: dict[str, Any]) -> bytes:
    """A copy of a state of tensors, numbers and lists, detached from the live run (torch.save
    copies every tensor), that any joblib backend ships as it is."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes) -> dict[str, Any]:
    return torch.load(io.BytesIO(data), weights_only=True)
