"""Named pairs: known recipes from the literature and the forum, and pairs we found.

A recipe may also suggest task settings it was designed for (the forum's recipe was
trained on unordered pairs) and a step cap; explicit command-line flags win over both.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.errors import UserError
from evo.pair import Pair


@dataclass(frozen=True)
class Recipe:
    name: str
    pair: Pair
    summary: str
    budget: int = 1000
    task: dict[str, Any] = field(default_factory=dict)


# Gromov's network (one quadratic layer, no biases, MSE) trained by AdamW: found here.
QUAD_BRAIN = BrainGene(family="mlp", hidden=(128,), activation="quadratic", bias=False, optimizer="adamw",
                       lr=1e-2, weight_decay=1.0, warmup=0, batch_size=0, loss="mse")

RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe(
        "onehot-mlp",
        Pair(EncoderGene(family="onehot", combiner="concat"),
             BrainGene(family="mlp", hidden=(256,), activation="relu", optimizer="adamw",
                       lr=1e-3, weight_decay=1.0, warmup=10, batch_size=0)),
        "one-hot operands concatenated, 1 hidden ReLU layer of 256, AdamW lr 1e-3 wd 1, full batch",
        budget=2000),
    Recipe(
        "power",
        Pair(EncoderGene(family="onehot", combiner="concat"),
             BrainGene(family="transformer", n_layers=2, d_model=128, n_heads=4, d_mlp=512,
                       layer_norm=True, activation="relu", optimizer="adamw", lr=1e-3,
                       weight_decay=1.0, beta1=0.9, beta2=0.98, warmup=10, batch_size=512)),
        "Power et al. 2022: 2-layer decoder transformer, width 128, 4 heads, tokens `a b =`, "
        "AdamW lr 1e-3 betas (0.9, 0.98) wd 1, batch 512, 10-step warm-up",
        budget=5000),
    Recipe(
        "forum",
        Pair(EncoderGene(family="varcycle", dim=400, period_min=2.0, period_max=100.0,
                         sharpness=1.0, combiner="sum_sdr", combine_k=1 / 3),
             BrainGene(family="mlp", hidden=(400, 200, 200, 200, 200, 200), activation="relu",
                       optimizer="adamw", lr=1e-3, weight_decay=1e-4, beta2=0.999, warmup=0,
                       batch_size=200, loss="mse")),
        "the forum's VarCycle d=400, operands summed then top-1/3 SDR, MLP (400, 200x5) "
        "regressor on one-hot targets (MSE), Adam lr 1e-3, batch 200, unordered pairs",
        budget=3000, task={"pairs": "unordered"}),
    Recipe(
        "onehot-quad",
        Pair(EncoderGene(family="onehot", combiner="concat"), QUAD_BRAIN),
        "found here: one-hot operands concatenated, one quadratic hidden layer of 128, no biases, "
        "MSE on one-hot targets (Gromov 2023's network) trained by AdamW lr 1e-2 wd 1, full batch",
        budget=500),
    Recipe(
        "fourier-quad",
        Pair(EncoderGene(family="fourier", freqs=(), combiner="concat"), QUAD_BRAIN),
        "found here: cos/sin of every frequency per operand, concatenated, the onehot-quad brain "
        "(products of operand features give the trig identities of Nanda et al.)",
        budget=500),
)}


def get_recipe(name: str, flag: str = "--recipe") -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise UserError(f"{flag}: unknown recipe {name!r} (known: {', '.join(RECIPES)})") from None
