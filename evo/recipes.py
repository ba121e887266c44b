"""Named pairs: known recipes from the literature and the forum, and pairs we found.

A recipe may also suggest task settings it was designed for (the forum's recipe was
trained on unordered pairs), a step cap and an evaluation interval; explicit command-line
flags win over all three. Where a reconstruction departs from its source, the summary says
so, and where a recipe fails its source's claim, experiments/reproduce.py shows it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    eval_every: int = 10
    task: dict[str, Any] = field(default_factory=dict)



# Gromov's network (one quadratic layer, no biases, MSE) trained by AdamW: found here.
QUAD_BRAIN = BrainGene(family="mlp", hidden=(128,), activation="quadratic", bias=False, optimizer="adamw",
                       lr=1e-2, weight_decay=1.0, warmup=0, batch_size=0, loss="mse")
# The router family with onehot-quad's blocks and training: a library of two quadratic blocks.
ROUTER_BRAIN = replace(QUAD_BRAIN, family="router", router_blocks=(64, 64), router_dim=128, router_steps=2,
                       router_kind="soft")

ONEHOT = EncoderGene(family="onehot", combiner="concat")
POWER_BRAIN = BrainGene(family="transformer", n_layers=2, d_model=128, n_heads=4, d_mlp=512,
                        layer_norm=True, activation="relu", optimizer="adamw", lr=1e-3,
                        weight_decay=1.0, beta1=0.9, beta2=0.98, warmup=10, batch_size=512)
# Lee et al.'s code (ironjr/grokfast main.py): torch.optim.Adam, so weight decay is an L2
# term in the gradient, not AdamW's decoupled decay; GELU in the MLP.
GROKFAST_BRAIN = replace(POWER_BRAIN, optimizer="adam", activation="gelu")
NANDA_BRAIN = BrainGene(family="transformer", n_layers=1, d_model=128, n_heads=4, d_mlp=512,
                        layer_norm=False, activation="relu", optimizer="adamw", lr=1e-3,
                        weight_decay=1.0, beta1=0.9, beta2=0.98, warmup=10, batch_size=0)

# The forum's VarCycleEncoder, after its author's description (each of 400 clocks has its own
# random period and phase; a value turns every clock's arm; the code is where each arm
# stands). The period range was not published: 2 to 20 is what worked best here.
FORUM_ENCODER = EncoderGene(family="varcycle", dim=400, period_min=2.0, period_max=20.0, sharpness=1.0,
                            waveform="sawtooth", combiner="sum_sdr", combine_k=1 / 3)
# sklearn's MLPRegressor defaults: ReLU, Adam lr 1e-3 betas (0.9, 0.999), batch 200, L2 1e-4.
FORUM_BRAIN = BrainGene(family="mlp", hidden=(400, 200, 200, 200, 200, 200), activation="relu",
                        optimizer="adamw", lr=1e-3, weight_decay=1e-4, beta2=0.999, warmup=0,
                        batch_size=200, loss="mse")

RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe(
        "onehot-mlp",
        Pair(EncoderGene(family="onehot", combiner="concat"),
             BrainGene(family="mlp", hidden=(256,), activation="relu", optimizer="adamw",
                       lr=1e-3, weight_decay=1.0, warmup=10, batch_size=0)),
        "one-hot operands concatenated, 1 hidden ReLU layer of 256, AdamW lr 1e-3 wd 1, full batch",
        budget=2000),
    Recipe(
        "power", Pair(ONEHOT, POWER_BRAIN),
        "Power et al. 2022: 2-layer decoder transformer, width 128, 4 heads, tokens `a b =`, "
        "AdamW lr 1e-3 betas (0.9, 0.98) wd 1, batch 512, 10-step warm-up",
        budget=5000),
    Recipe(
        "nanda", Pair(ONEHOT, NANDA_BRAIN),
        "Nanda et al. 2023: 1-layer transformer, d_model 128, 4 heads, d_mlp 512, ReLU, no layer "
        "norm, full batch, AdamW lr 1e-3 betas (0.9, 0.98) wd 1, 10-step warm-up",
        budget=5000),
    Recipe(
        "grokfast", Pair(ONEHOT, replace(GROKFAST_BRAIN, weight_decay=0.005, grokfast_lambda=2.0,
                                          grokfast_filter="ema", grokfast_alpha=0.98)),
        "Lee et al. 2024: their 2-layer transformer (width 128, 4 heads, GELU MLP 512, batch 512, "
        "Adam lr 1e-3 betas (0.9, 0.98), L2 weight decay 0.005 in the gradient) with the "
        "Grokfast-EMA filter alpha 0.98, lambda 2",
        budget=3000),
    Recipe(
        "grokfast-ma", Pair(ONEHOT, replace(GROKFAST_BRAIN, weight_decay=0.01, grokfast_lambda=5.0,
                                             grokfast_filter="ma", grokfast_window=100)),
        "Lee et al. 2024: their transformer as in `grokfast`, L2 weight decay 0.01, with the "
        "Grokfast-MA filter, window 100, lambda 5",
        budget=3000),
    Recipe(
        "gromov", Pair(ONEHOT, replace(QUAD_BRAIN, hidden=(512,), weight_decay=0.0)),
        "Gromov 2023's network: one-hots concatenated, one hidden layer of 512 with x^2 activation, "
        "no biases, MSE on one-hot targets, full batch, no regularizer; trained by AdamW lr 1e-2 "
        "wd 0 (plain gradient descent is gromov-gd)",
        budget=1000),
    Recipe(
        "gromov-gd", Pair(ONEHOT, replace(QUAD_BRAIN, hidden=(512,), optimizer="sgd", lr=1.0,
                                           momentum=0.0, weight_decay=0.0)),
        "Gromov 2023's network trained by full-batch gradient descent, lr 1 (the top of our lr "
        "range; our MSE averages over the p outputs, so its gradient is p times smaller than a sum's)",
        budget=1000),
    Recipe(
        "orthograd",
        Pair(ONEHOT, BrainGene(family="mlp", hidden=(200, 200), activation="relu", optimizer="adamw",
                               lr=1e-2, weight_decay=0.0, warmup=0, batch_size=0, orthograd=True,
                               stablemax=False)),
        "Prieto et al. 2025: MLP [200, 200] ReLU on concatenated one-hots, full batch, AdamW lr 1e-2 "
        "wd 0 on perpendicular gradients (softmax; StableMax is the gene `stablemax`)",
        budget=2000),
    Recipe(
        "egd",
        Pair(ONEHOT, BrainGene(family="mlp", hidden=(512,), activation="relu", optimizer="sgd", lr=0.7,
                               momentum=0.0, weight_decay=1e-4, warmup=0, batch_size=512, egalitarian=True)),
        "Pasand & Dohmatob 2026 (egalitarian gradient descent): one-hots concatenated, one hidden ReLU "
        "layer of 512, cross-entropy, SGD lr 0.7, batch 512, L2 weight decay 1e-4, every weight "
        "matrix's gradient with its singular values set to 1 (their code: the first layer only, no "
        "decay on biases, plain SGD once test accuracy passes 95%, which a search may not look at)",
        budget=1000),
    Recipe(
        "muon", Pair(ONEHOT, replace(POWER_BRAIN, muon=True)),
        "Tveit et al. 2025's comparison: the power transformer with torch.optim.Muon (momentum 0.95, "
        "Nesterov, its step matched to AdamW's RMS) on the 2-D weight matrices, AdamW on the rest, "
        "lr 1e-3 wd 1, batch 512, 10-step warm-up",
        budget=5000),
    Recipe(
        "omnigrok", Pair(ONEHOT, replace(NANDA_BRAIN, init_scale=0.8, weight_decay=0.0,
                                          norm_constraint=True)),
        "Liu et al. 2022: the nanda transformer with init scaled by 0.8, no weight decay, the "
        "total weight norm held at its initial value after every step",
        budget=5000),
    Recipe(
        "ff",
        Pair(ONEHOT, BrainGene(family="ff", hidden=(512, 512), activation="relu", ff_k=0.25,
                               ff_theta=2.0, optimizer="adamw", lr=1e-3, weight_decay=0.0, warmup=0,
                               batch_size=512)),
        "Hinton 2022's forward-forward: one-hots concatenated plus the candidate answer, two "
        "k-WTA layers of 512 (k 1/4), goodness threshold 2, AdamW lr 1e-3, batch 512; predicting "
        "tries all p answers, so it is evaluated every 100 steps",
        budget=2000, eval_every=100),
    Recipe(
        "forum", Pair(FORUM_ENCODER, FORUM_BRAIN),
        "the forum's recipe as reconstructed here: VarCycle d=400 (sawtooth clocks, periods 2 to 20, "
        "random phases), operands summed then top-1/3 SDR, MLP (400, 200x5) regressor on one-hot "
        "targets (MSE), AdamW lr 1e-3 betas (0.9, 0.999) wd 1e-4 (sklearn's Adam with its L2 term "
        "alpha 1e-4 / batch, negligible either way), batch 200, unordered pairs without a=b",
        budget=3000, task={"pairs": "unordered"}),
    Recipe(
        "forum-cosine", Pair(replace(FORUM_ENCODER, waveform="cosine", period_max=100.0), FORUM_BRAIN),
        "the forum recipe with cosine-bump clocks, periods 2 to 100 (our first reconstruction)",
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
    Recipe(
        "router",
        Pair(EncoderGene(family="onehot", combiner="concat"), ROUTER_BRAIN),
        "the forum's swappable blocks and router (brains.router): one-hot operands concatenated, a "
        "state of 128, two quadratic residual blocks of 64, a soft router over 2 recursion steps, the "
        "onehot-quad recipe's training (MSE, AdamW lr 1e-2 wd 1, no biases, full batch)",
        budget=500),
)}


def get_recipe(name: str, flag: str = "--recipe") -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise UserError(f"{flag}: unknown recipe {name!r} (known: {', '.join(RECIPES)})") from None
