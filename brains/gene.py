"""The brain gene: network shape and training recipe in one frozen dataclass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import genome
from genome import gene_field

FAMILIES = ("mlp", "transformer")
ACTIVATIONS = ("relu", "gelu", "quadratic", "identity")
OPTIMIZERS = ("adamw", "sgd")
LOSSES = ("xent", "mse")


@dataclass(frozen=True)
class BrainGene:
    """Fields a family does not use are kept so that a family switch can come back to them."""

    family: str = gene_field("mlp", "choice", choices=FAMILIES, doc="network family")
    # mlp
    hidden: tuple[int, ...] = gene_field((256,), "ints", lo=1, hi=1024, min_len=0, max_len=6,
                                         log=True, when="family=mlp",
                                         doc="mlp: hidden layer widths (0 to 6 layers)")
    activation: str = gene_field("relu", "choice", choices=ACTIVATIONS,
                                 doc="hidden activation (mlp layers, transformer MLP)")
    init_scale: float = gene_field(1.0, "float", lo=0.01, hi=10.0, log=True,
                                   doc="multiplies every weight at initialisation")
    bias: bool = gene_field(True, "bool", doc="linear layers carry biases")
    # transformer
    n_layers: int = gene_field(2, "int", lo=1, hi=4, when="family=transformer", doc="transformer: blocks")
    d_model: int = gene_field(128, "int", lo=8, hi=256, log=True, when="family=transformer",
                          doc="transformer: width")
    n_heads: int = gene_field(4, "int", lo=1, hi=8, when="family=transformer",
                          doc="transformer: heads (divide d_model)")
    d_mlp: int = gene_field(512, "int", lo=8, hi=1024, log=True, when="family=transformer",
                        doc="transformer: MLP width")
    layer_norm: bool = gene_field(True, "bool", when="family=transformer",
                                  doc="transformer: pre-norm layer norms")
    # recipe
    optimizer: str = gene_field("adamw", "choice", choices=OPTIMIZERS, doc="optimizer")
    lr: float = gene_field(1e-3, "float", lo=1e-5, hi=1.0, log=True, doc="learning rate")
    weight_decay: float = gene_field(1.0, "float", lo=1e-5, hi=10.0, off=0.0, log=True,
                                       doc="decoupled (adamw) or L2 (sgd)")
    beta1: float = gene_field(0.9, "float", lo=0.5, hi=0.99, when="optimizer=adamw",
                               doc="adamw beta1")
    beta2: float = gene_field(0.98, "float", lo=0.9, hi=0.9999, when="optimizer=adamw",
                               doc="adamw beta2")
    momentum: float = gene_field(0.9, "float", lo=0.0, hi=0.99, when="optimizer=sgd",
                                  doc="sgd momentum")
    warmup: int = gene_field(10, "int", lo=1, hi=1000, off=0, log=True,
                            doc="linear warm-up steps")
    batch_size: int = gene_field(0, "int", lo=16, hi=4096, off=0, log=True,
                                doc="minibatch size; 0 = full batch")
    loss: str = gene_field("xent", "choice", choices=LOSSES,
                           doc="cross-entropy, or MSE on one-hot targets (a regressor)")
    grokfast_alpha: float = gene_field(0.98, "float", lo=0.5, hi=0.999, when="grokfast_lambda!=0.0",
                                       doc="Grokfast EMA decay")
    grokfast_lambda: float = gene_field(0.0, "float", lo=0.1, hi=10.0, off=0.0, log=True,
                                        doc="Grokfast EMA amplification; 0 = off")
    grad_clip: float = gene_field(0.0, "float", lo=0.1, hi=100.0, off=0.0, log=True,
                                   doc="gradient norm clip; 0 = off")

    def __post_init__(self) -> None:
        genome.validate(self)
        if self.family == "transformer" and self.d_model % self.n_heads:
            raise genome.GeneError(
                f"BrainGene.n_heads: {self.n_heads} does not divide d_model {self.d_model}")

    def to_dict(self) -> dict[str, Any]:
        return genome.to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "BrainGene":
        return genome.from_dict(cls, data)
