"""The brain gene: network shape and training recipe in one frozen dataclass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import genome
from genome import gene_field

FAMILIES = ("mlp", "transformer", "ff", "router")
ROUTER_KINDS = ("soft", "hard")
ACTIVATIONS = ("relu", "gelu", "quadratic", "identity")
OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("constant", "cosine", "onecycle")
LOSSES = ("xent", "mse")
GROKFAST_FILTERS = ("ema", "ma")


@dataclass(frozen=True)
class BrainGene:
    """Fields a family does not use are kept so that a family switch can come back to them.

    Random draws land in each field's `draw` range and switch mechanisms on with `p_on`:
    under the full ranges and even odds, none of 200 random MLP pairs learned anything in
    300 steps (experiments/prior_probe.py, README "What the main job does, measured")."""

    family: str = gene_field("mlp", "choice", choices=FAMILIES, doc="network family")
    # mlp
    hidden: tuple[int, ...] = gene_field((256,), "ints", lo=1, hi=1024, min_len=0, max_len=6,
                                         log=True, when="family=mlp|ff", draw=(32, 512), draw_len=(1, 2),
                                         doc="mlp, ff: hidden layer widths (0 to 6 layers; ff needs 1)")
    activation: str = gene_field("relu", "choice", choices=ACTIVATIONS,
                                 doc="hidden activation (mlp layers, transformer MLP)")
    init_scale: float = gene_field(1.0, "float", lo=0.01, hi=10.0, log=True, draw=(0.3, 3.0),
                                   doc="multiplies every weight at initialisation")
    bias: bool = gene_field(True, "bool", doc="linear layers carry biases")
    # transformer
    n_layers: int = gene_field(2, "int", lo=1, hi=4, when="family=transformer", doc="transformer: blocks")
    d_model: int = gene_field(128, "int", lo=8, hi=256, log=True, when="family=transformer", draw=(32, 128),
                          doc="transformer: width")
    n_heads: int = gene_field(4, "int", lo=1, hi=8, when="family=transformer",
                          doc="transformer: heads (divide d_model)")
    d_mlp: int = gene_field(512, "int", lo=8, hi=1024, log=True, when="family=transformer", draw=(64, 512),
                        doc="transformer: MLP width")
    layer_norm: bool = gene_field(True, "bool", when="family=transformer",
                                  doc="transformer: pre-norm layer norms")
    # forward-forward (Hinton 2022): layer-local goodness objective, label in the input
    ff_k: float = gene_field(0.25, "float", lo=0.01, hi=1.0, log=True, when="family=ff",
                             doc="ff: fraction of units a k-winners-take-all layer keeps")
    ff_theta: float = gene_field(2.0, "float", lo=0.1, hi=100.0, log=True, when="family=ff",
                                 doc="ff: goodness threshold between positive and negative data")
    # router (brains.router): a library of residual MLP blocks, a router picks one per recursion step
    router_blocks: tuple[int, ...] = gene_field((64, 64), "ints", lo=4, hi=1024, min_len=1, max_len=8, log=True,
                                                when="family=router", draw=(16, 256), draw_len=(1, 4), quiet=True,
                                                swap_items=True,
                                                doc="router: the hidden width of each block of the library "
                                                    "(K = their count); crossover exchanges whole blocks")
    router_dim: int = gene_field(128, "int", lo=8, hi=512, log=True, when="family=router", draw=(32, 256),
                                 quiet=True, doc="router: width of the state the blocks update")
    router_steps: int = gene_field(2, "int", lo=1, hi=8, when="family=router", draw=(1, 4), quiet=True,
                                   doc="router: recursion steps R (the cap when it may halt)")
    router_kind: str = gene_field("soft", "choice", choices=ROUTER_KINDS, when="family=router", quiet=True,
                                  doc="router: a soft mixture of every block, or hard top-1 with a "
                                      "straight-through gradient")
    router_halt: bool = gene_field(False, "bool", when="family=router", p_on=0.3, quiet=True,
                                   doc="router: may halt early (a learned halting distribution over the "
                                       "R steps; every step still runs)")
    router_balance: float = gene_field(0.0, "float", lo=1e-4, hi=1.0, off=0.0, log=True, when="family=router",
                                       draw=(1e-3, 0.1), quiet=True,
                                       doc="router: weight of the load-balancing loss (Switch's K sum f_k P_k); "
                                           "0 = off")
    # recipe
    optimizer: str = gene_field("adamw", "choice", choices=OPTIMIZERS,
                                doc="adamw (decoupled weight decay), adam (weight decay as an L2 "
                                    "term in the gradient, as Grokfast's code runs it) or sgd; with "
                                    "`muon`, for the parameters that are not weight matrices")
    lr: float = gene_field(1e-3, "float", lo=1e-5, hi=1.0, log=True, draw=(1e-3, 1e-1), doc="learning rate")
    weight_decay: float = gene_field(1.0, "float", lo=1e-5, hi=10.0, off=0.0, log=True, draw=(1e-4, 1.0),
                                       doc="decoupled (adamw) or L2 in the gradient (adam, sgd)")
    beta1: float = gene_field(0.9, "float", lo=0.5, hi=0.99, when="optimizer=adamw|adam",
                               doc="adam(w) beta1")
    beta2: float = gene_field(0.98, "float", lo=0.9, hi=0.9999, when="optimizer=adamw|adam",
                               doc="adam(w) beta2")
    momentum: float = gene_field(0.9, "float", lo=0.0, hi=0.99, when="optimizer=sgd",
                                  doc="sgd momentum")
    warmup: int = gene_field(10, "int", lo=1, hi=1000, off=0, log=True, draw=(1, 30),
                            doc="linear warm-up steps")
    batch_size: int = gene_field(0, "int", lo=16, hi=4096, off=0, log=True, draw=(128, 2048),
                                doc="minibatch size; 0 = full batch")
    loss: str = gene_field("xent", "choice", choices=LOSSES, when="family=mlp|transformer",
                           doc="cross-entropy, or MSE on one-hot targets (a regressor)")
    stablemax: bool = gene_field(False, "bool", when="loss=xent", p_on=0.1,
                                 doc="StableMax in place of softmax (Prieto et al. 2025)")
    grokfast_lambda: float = gene_field(0.0, "float", lo=0.1, hi=10.0, off=0.0, log=True, p_on=0.2,
                                        draw=(0.5, 5.0),
                                        doc="Grokfast amplification of the slow gradient; 0 = off")
    grokfast_filter: str = gene_field("ema", "choice", choices=GROKFAST_FILTERS,
                                      when="grokfast_lambda!=0.0",
                                      doc="Grokfast filter: exponential or windowed moving average")
    grokfast_alpha: float = gene_field(0.98, "float", lo=0.5, hi=0.999, when="grokfast_filter=ema",
                                       doc="Grokfast-EMA decay")
    grokfast_window: int = gene_field(100, "int", lo=2, hi=500, log=True, when="grokfast_filter=ma",
                                      doc="Grokfast-MA window (steps)")
    orthograd: bool = gene_field(False, "bool", p_on=0.1,
                                 doc="project each gradient orthogonal to its weights, keep its norm "
                                     "(Prieto et al. 2025's perpendicular gradient)")
    norm_constraint: bool = gene_field(False, "bool", p_on=0.1,
                                       doc="hold the total weight norm at its initial value after "
                                           "every step (Omnigrok, Liu et al. 2022)")
    grad_clip: float = gene_field(0.0, "float", lo=0.1, hi=100.0, off=0.0, log=True, p_on=0.2,
                                   doc="gradient norm clip; 0 = off")
    muon: bool = gene_field(False, "bool", p_on=0.2, quiet=True,
                            doc="the 2-D weight matrices by torch.optim.Muon (Nesterov momentum 0.95, "
                                "its step matched to AdamW's RMS), the rest by `optimizer`")
    muon_lr_scale: float = gene_field(1.0, "float", lo=0.1, hi=100.0, log=True, when="muon=true", draw=(1.0, 30.0),
                                      quiet=True, doc="Muon's learning rate as a multiple of `lr` (by hand Muon "
                                                      "crossed fastest above the range `lr` is drawn from)")
    egalitarian: bool = gene_field(False, "bool", p_on=0.1, quiet=True,
                                   doc="set every singular value of each weight matrix's gradient to 1 "
                                       "(Pasand & Dohmatob 2026's egalitarian gradient descent)")
    lr_schedule: str = gene_field("constant", "choice", choices=SCHEDULES, quiet=True,
                                  doc="after the warm-up: constant, cosine to 0 at the step budget, or "
                                      "one-cycle (up from lr/25 over 30% of the budget, cosine down)")
    # curriculum (evo.execution.curriculum): train on earlier operations first, then stack new layers.
    # The operations are indices into the run's --curriculum-pool (taken modulo its length),
    # so a gene stays valid for any pool; runs without a pool hold these fields fixed.
    curriculum: tuple[int, ...] = gene_field((), "ints", lo=0, hi=15, min_len=0, max_len=2, draw_len=(0, 2),
                                             quiet=True, labels=True, doc="earlier operations, as indices into the run's "
                                                             "curriculum pool; () = none")
    stack_hidden: tuple[int, ...] = gene_field((128,), "ints", lo=1, hi=1024, min_len=0, max_len=2, log=True,
                                               draw=(32, 512), draw_len=(1, 1), when="curriculum!=()", quiet=True,
                                               doc="mlp: hidden widths of the layers each later stage stacks on; "
                                                   "router: widths of the blocks each later stage adds")
    stack_freeze: bool = gene_field(False, "bool", when="curriculum!=()", quiet=True,
                                    doc="keep the earlier stages' layers (router: handed-over blocks) fixed")
    stack_read: str = gene_field("answer", "choice", choices=("answer", "scores"), when="curriculum!=()",
                                 quiet=True, doc="what stacked layers read of the trained brain: its answer "
                                                 "as a one-hot, or its raw scores")

    def __post_init__(self) -> None:
        genome.validate(self)
        if self.curriculum and self.family not in ("mlp", "router"):
            raise genome.GeneError("BrainGene.curriculum: only the mlp and router families go on from an earlier "
                                   "stage (evo.execution.curriculum)")
        if self.family == "transformer" and self.d_model % self.n_heads:
            raise genome.GeneError(
                f"BrainGene.n_heads: {self.n_heads} does not divide d_model {self.d_model}")
        if self.family == "ff" and not self.hidden:
            raise genome.GeneError("BrainGene.hidden: the ff family needs at least one layer")

    def to_dict(self) -> dict[str, Any]:
        return genome.to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "BrainGene":
        return genome.from_dict(cls, data)
