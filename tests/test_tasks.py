"""Splits: disjoint, exact sizes, seeded; operations against a slow oracle."""
import numpy as np
import pytest

from evo.tasks import OPERATIONS, TaskError, TaskSpec, apply_op, make_split, universe


def inverse(y: int, p: int) -> int:
    return next(c for c in range(p) if (c * y) % p == 1)


def oracle(op: str, x: int, y: int, p: int) -> int:
    """Power et al.'s operations written out with Python integers, one pair at a time."""
    return {"add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
            "div": lambda: x * inverse(y, p),
            "x^2+y^2": lambda: x ** 2 + y ** 2, "x^2+x*y+y^2": lambda: x ** 2 + x * y + y ** 2,
            "x^2+x*y+y^2+x": lambda: x ** 2 + x * y + y ** 2 + x, "x^3+x*y": lambda: x ** 3 + x * y,
            "x^3+x*y^2+y": lambda: x ** 3 + x * y ** 2 + y,
            "cond": lambda: x * inverse(y, p) if y % 2 else x - y}[op]() % p


@pytest.mark.parametrize("op", OPERATIONS)
def test_operations_match_oracle(op):
    p = 11
    pairs = universe(TaskSpec(op=op, p=p))
    got = apply_op(op, pairs[:, 0], pairs[:, 1], p)
    assert got.tolist() == [oracle(op, int(x), int(y), p) for x, y in pairs]


@pytest.mark.parametrize("text,expected", [
    ("x + y", "add"), ("x**2 + y**2", "x^2+y^2"), ("x/y if y odd else x-y", "cond"), ("poly", "x^3+x*y^2+y"),
    ("(x - 2*y)^3 / (x + 1)", "(x-2*y)^3/(x+1)")])
def test_task_text_is_a_name_or_an_expression(text, expected):
    assert TaskSpec(op=text, p=11).op == expected


def test_custom_expression_against_python():
    p = 13
    spec = TaskSpec(op="(x - 2*y)^3 / (x + 1) - -y", p=p)
    pairs = universe(spec)
    assert len(pairs) == p * p - p  # x = p - 1 makes the divisor 0: those pairs have no answer
    for (x, y), got in zip(pairs.tolist(), apply_op(spec.op, pairs[:, 0], pairs[:, 1], p).tolist()):
        assert got == ((x - 2 * y) ** 3 * inverse((x + 1) % p, p) + y) % p
    assert not spec.commutative and TaskSpec(op="x*y + x + y", p=p).commutative


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo owned')", "x.__class__", "lambda: 1", "x + ", "x ^ y", "x ^ 99",
    "(x + y", "3 + 4", "", "x" * 300, "open('/etc/passwd')", "x; y", "x y"])
def test_hostile_or_malformed_expressions_are_refused(text):
    with pytest.raises(TaskError):
        TaskSpec(op=text, p=11)


@pytest.mark.parametrize("split", ["random", "ordered"])
@pytest.mark.parametrize("pairs", ["ordered", "unordered", "unordered-diag"])
@pytest.mark.parametrize("op", ["add", "div"])
def test_split_disjoint_and_exact(split, pairs, op):
    spec = TaskSpec(op=op, p=23, split=split, pairs=pairs, train_frac=0.4, select_frac=0.5, split_seed=3)
    s = make_split(spec)
    n = {"ordered": 23 * 23, "unordered": 23 * 22 // 2, "unordered-diag": 23 * 24 // 2}[pairs]
    if op == "div":  # y = 0 is not in the universe
        n -= {"ordered": 23, "unordered": 0, "unordered-diag": 1}[pairs]
    sets = [set(s.train.tolist()), set(s.select.tolist()), set(s.holdout.tolist())]
    assert sum(map(len, sets)) == n == len(s.pairs)
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(s.train) == round(0.4 * n)
    assert len(s.select) == round(0.5 * (n - len(s.train)))
    assert s.sizes() == {"universe": n, "train": len(s.train), "select": len(s.select),
                         "holdout": len(s.holdout)}
    if pairs == "unordered":
        assert (s.pairs[:, 0] < s.pairs[:, 1]).all()
    if pairs == "unordered-diag":
        assert (s.pairs[:, 0] <= s.pairs[:, 1]).all()
    if op == "div":
        assert (s.pairs[:, 1] != 0).all()


def test_ordered_split_trains_on_generator_prefix():
    s = make_split(TaskSpec(p=11, split="ordered", train_frac=0.5))
    expected = [(i, j) for i in range(11) for j in range(11)][: round(0.5 * 121)]
    assert [tuple(pq) for pq in s.pairs[s.train].tolist()] == expected


def test_split_is_seeded():
    a, b = make_split(TaskSpec(p=23, split_seed=1)), make_split(TaskSpec(p=23, split_seed=1))
    c = make_split(TaskSpec(p=23, split_seed=2))
    assert np.array_equal(a.train, b.train) and np.array_equal(a.holdout, b.holdout)
    assert not np.array_equal(a.train, c.train)


def test_unseen_mirror_matches_oracle():
    s = make_split(TaskSpec(p=23))
    train = {tuple(pq) for pq in s.pairs[s.train].tolist()}
    expected = [i for i in s.holdout.tolist() if (s.pairs[i, 1], s.pairs[i, 0]) not in train]
    assert s.unseen_mirror().tolist() == expected
    assert 0 < len(expected) < len(s.holdout)


@pytest.mark.parametrize("kwargs, field", [
    ({"p": 91}, "p"), ({"p": 3}, "p"), ({"p": 1013}, "p"), ({"p": 9.0}, "p"),
    ({"train_frac": 0.0}, "train_frac"), ({"train_frac": 1.0}, "train_frac"),
    ({"select_frac": 1.5}, "select_frac"), ({"op": "pow"}, "task"),
    ({"split": "sorted"}, "split"), ({"pairs": "both"}, "pairs"),
])
def test_bad_task_names_the_field(kwargs, field):
    with pytest.raises(TaskError, match=field):
        TaskSpec(**kwargs)


def test_primes_in_range_accepted():
    assert TaskSpec(p=5).p == 5 and TaskSpec(p=1009).p == 1009


def test_empty_set_refused():
    with pytest.raises(TaskError, match="empty"):
        make_split(TaskSpec(p=5, train_frac=0.99))
