"""DEAP's creator calls, all in one importable module (creator classes are global and must
exist under the same names in every worker process)."""
from __future__ import annotations

from typing import Any

from deap import base, creator


class GeneBox:
    """A DEAP individual holding one gene (an encoder, a brain, or a pair).

    Equality is the gene's, so ParetoFront merges duplicates; the fitness rides along.
    """

    def __init__(self, gene: Any):
        self.gene = gene
        self.behaviour: str | None = None  # a scored pair's curve (evo.search.archive.similar)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GeneBox) and self.gene == other.gene

    def __hash__(self) -> int:
        return hash(self.gene)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.gene!r})"


# Both objectives are minimised: log10 generalization cost and log10 brain parameters.
if not hasattr(creator, "CostSize"):
    creator.create("CostSize", base.Fitness, weights=(-1.0, -1.0))
if not hasattr(creator, "EncoderInd"):
    creator.create("EncoderInd", GeneBox, fitness=creator.CostSize)
if not hasattr(creator, "BrainInd"):
    creator.create("BrainInd", GeneBox, fitness=creator.CostSize)
if not hasattr(creator, "PairInd"):
    creator.create("PairInd", GeneBox, fitness=creator.CostSize)
# With the data objective (--objectives cost,size,data), a third: log10 of the smallest
# training fraction at which the pair reaches the threshold. DEAP ties a fitness class to
# its number of objectives, so these are classes of their own.
if not hasattr(creator, "CostSizeData"):
    creator.create("CostSizeData", base.Fitness, weights=(-1.0, -1.0, -1.0))
for _name in ("EncoderInd3", "BrainInd3", "PairInd3"):
    if not hasattr(creator, _name):
        creator.create(_name, GeneBox, fitness=creator.CostSizeData)


def boxed(kind: str, gene: Any, values: tuple[float, ...] | None = None,
          behaviour: str | None = None, n: int = 2) -> GeneBox:
    """A new individual of kind "encoder", "brain" or "pair", with fitness if given, and a
    scored pair's behaviour (its curve, see evo.search.archive.behaviour). `n`: the number
    of objectives (that of `values`, when given)."""
    n = len(values) if values is not None else n
    cls = {("encoder", 2): creator.EncoderInd, ("brain", 2): creator.BrainInd, ("pair", 2): creator.PairInd,
           ("encoder", 3): creator.EncoderInd3, ("brain", 3): creator.BrainInd3,
           ("pair", 3): creator.PairInd3}[kind, n]
    ind = cls(gene)
    if values is not None:
        ind.fitness.values = values
    ind.behaviour = behaviour
    return ind
