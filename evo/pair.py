"""A pair: one encoder gene and one brain gene, the unit that is trained and scored."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brains.gene import BrainGene
from encoders import code_dim, feature_dim
from encoders.gene import EncoderGene
from evo.errors import UserError, read_text
from genome import GeneError


@dataclass(frozen=True)
class Pair:
    encoder: EncoderGene
    brain: BrainGene

    @property
    def combiner(self) -> str:
        """Who combines the operands: the encoder's declared combiner, or the brain itself."""
        return "brain:attention" if self.brain.family == "transformer" else self.encoder.combiner

    def check_buildable(self, p: int) -> None:
        """Raise GeneError now, naming the field, if this pair cannot be built for modulus p
        (a code width set by p can leave no room for a top-k), instead of mid-training."""
        if self.brain.family == "transformer":
            code_dim(self.encoder, p)
        else:
            feature_dim(self.encoder, p)

    def to_dict(self) -> dict[str, Any]:
        return {"encoder": self.encoder.to_dict(), "brain": self.brain.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> "Pair":
        if not isinstance(data, dict) or not {"encoder", "brain"} <= set(data):
            raise GeneError("pair: expected a JSON object with keys 'encoder' and 'brain'")
        return cls(EncoderGene.from_dict(data["encoder"]), BrainGene.from_dict(data["brain"]))


def load_pair(path: str | Path) -> tuple[Pair, dict[str, Any]]:
    """Read a pair file (a bare pair, or any record that holds 'encoder' and 'brain').

    Returns the pair and the rest of the document: a front's pair file also carries the
    task, budget and seed it was scored under, so that one command reproduces it."""
    text = read_text(path, "--pair")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--pair: {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        pair = Pair.from_dict(data)
    except (GeneError, TypeError) as exc:
        raise UserError(f"--pair: {path}: {exc}") from None
    return pair, {k: v for k, v in data.items() if k not in ("encoder", "brain")}
