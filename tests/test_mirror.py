"""The mirror leak: on a commutative operation a symmetric combiner answers a select pair
from memory when its mirror (y, x) is a training pair. Fitness reads only the select pairs
whose mirror is unseen, and there a planted memorizer scores at chance."""
import torch
import torch.nn.functional as F
from torch import nn

from brains.gene import BrainGene
from brains.losses import measure
from encoders.gene import EncoderGene
from evo.execution.evaluate import evaluate, prepare
from evo.pair import Pair
from evo.search.config import RunConfig
from evo.tasks import TaskSpec, make_split

TASK = TaskSpec(p=23, train_frac=0.5)   # add: commutative
SYMMETRIC = Pair(EncoderGene(family="onehot", combiner="sum"), BrainGene(hidden=(16,)))


class Memorizer(nn.Module):
    """A lookup of the training pairs' features (which a summed code shares with each
    mirror), answering 0 where it has nothing: generalization it has none."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, n_classes: int):
        super().__init__()
        self.table = {row.numpy().tobytes(): int(label) for row, label in zip(x, y)}
        self.n_classes = n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        answers = torch.tensor([self.table.get(row.numpy().tobytes(), 0) for row in x])
        return F.one_hot(answers, self.n_classes).float()


def memorizer_select(select: str) -> float:
    prep = prepare(SYMMETRIC, TASK, 0, torch.device("cpu"), select)
    model = Memorizer(prep.data.x_train, prep.data.y_train, TASK.p)
    return measure(model, prep.data.x_select, prep.data.y_select, F.cross_entropy)[0]


def test_a_memorizer_scores_at_chance_on_the_select_pairs_fitness_reads():
    assert memorizer_select("all") > 0.4                  # the leak: about half answered from memory
    assert memorizer_select("unseen-mirror") <= 2 / TASK.p  # chance is 1/p


def test_scored_select_is_the_select_pairs_with_an_unseen_mirror():
    split = make_split(TASK)
    scored = split.scored_select("unseen-mirror")
    train = {tuple(pair) for pair in split.pairs[split.train]}
    assert set(scored) <= set(split.select) and 0 < len(scored) < len(split.select)
    assert all((b, a) not in train for a, b in split.pairs[scored])
    assert all((b, a) in train for a, b in split.pairs[sorted(set(split.select) - set(scored))])
    assert list(split.scored_select("all")) == list(split.select)


def test_the_search_scores_on_unseen_mirrors_and_old_runs_on_all():
    config = RunConfig(p=23, train_frac=0.5, budget=20)
    assert config.select == "unseen-mirror"
    record = evaluate(SYMMETRIC, config.run_settings())
    assert record["task"]["select"] == "unseen-mirror"
    assert record["task"]["select_scored"] == len(make_split(TASK).scored_select("unseen-mirror"))
    old = {k: v for k, v in config.to_dict().items() if k != "select"}
    assert RunConfig.stored(old).select == "all"
    assert "select" not in RunConfig.stored(old).run_settings().to_dict()
