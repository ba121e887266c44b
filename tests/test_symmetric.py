"""Symmetric combiners (sum, sum_sdr, product) cannot tell (x, y) from (y, x): their
ceiling on an operation, and the search offers them only where it reaches the threshold."""
import itertools

import numpy as np
import pytest

from encoders.gene import SYMMETRIC_COMBINERS, EncoderGene
from evo.search import variation
from evo.search.config import RunConfig
from evo.search.loop import Search
from evo.search.state import new_state
from evo.tasks import evaluate_op, symmetric_ceiling


def slow_ceiling(op, p):
    """Oracle: the best any answer of the unordered pair can do, pair by pair."""
    right = total = 0
    for x, y in itertools.combinations_with_replacement(range(p), 2):
        answers = []
        for a, b in {(x, y), (y, x)}:
            answer, valid = evaluate_op(op, np.array([a]), np.array([b]), p)
            if valid.all():
                answers.append(int(answer[0]))
        total += len(answers)
        right += max((answers.count(v) for v in answers), default=0)
    return right / total


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "x^3+x*y^2+y", "cond", "x^2+x*y+y^2"])
def test_ceiling_matches_the_pair_by_pair_oracle(op):
    assert symmetric_ceiling(op, 11) == pytest.approx(slow_ceiling(op, 11))


def test_commutative_operations_have_no_ceiling_and_the_others_about_half():
    assert symmetric_ceiling("add", 23) == symmetric_ceiling("x^2+x*y+y^2", 23) == 1.0
    assert 0.45 < symmetric_ceiling("sub", 23) < 0.55


@pytest.mark.parametrize("op,choice,offered", [("sub", "auto", False), ("add", "auto", True),
                                               ("sub", "on", True), ("add", "off", False)])
def test_the_search_draws_symmetric_combiners_only_where_offered(op, choice, offered):
    config = RunConfig(task=op, p=11, population=40, symmetric_combiners=choice, workers=1)
    assert config.symmetric_offered() is offered
    search = Search(new_state(config), scorer=None, emit=lambda *a, **k: None)
    genes = [variation.random_gene(EncoderGene, search.state.rng, search.encoder_ok) for _ in range(60)]
    assert any(g.combiner in SYMMETRIC_COMBINERS for g in genes) is offered
