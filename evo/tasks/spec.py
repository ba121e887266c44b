"""Binary operations mod p and the three disjoint splits: train, select, holdout.

Pure data: no torch, no training. Holdout indices leave this module through
`Split.holdout` and `Split.unseen_mirror()`; the evaluator encodes and measures them only
for a re-check or `train` (a search run records the sets' sizes only), and `inspect`
measures a trained pair on them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from evo.tasks import expr

P_MIN, P_MAX = 5, 1009
SPLITS = ("random", "ordered")
SELECTS = ("all", "unseen-mirror")   # the select pairs a run is scored on (Split.scored_select)
PAIRS = ("ordered", "unordered", "unordered-diag")
SEED_LIMIT = 2 ** 63  # seeds go to numpy and torch generators: non-negative 64-bit


class TaskError(ValueError):
    """A task or split that cannot be built (not a prime, an empty set, an unknown name)."""


# Power et al. (2022)'s binary operations mod p, by name: each an expression of evo.tasks.expr,
# except the conditional, which the grammar does not express.
NAMED = {
    "add": "x+y", "sub": "x-y", "mul": "x*y", "div": "x/y",
    "x^2+y^2": "x^2+y^2", "x^2+x*y+y^2": "x^2+x*y+y^2", "x^2+x*y+y^2+x": "x^2+x*y+y^2+x",
    "x^3+x*y": "x^3+x*y", "x^3+x*y^2+y": "x^3+x*y^2+y",
    "cond": "x/y if y odd else x-y",
}
ALIASES = {"x/yifyoddelsex-y": "cond", "poly": "x^3+x*y^2+y"}
OPERATIONS = tuple(NAMED)


def canonical_op(name: str) -> str:
    """A named operation (or its expression, or an alias) -> its name; any other expression
    of the grammar -> its canonical text (a custom task)."""
    if not isinstance(name, str):
        raise TaskError(f"task: expected an operation name or expression, got {name!r}")
    text = name.replace(" ", "")
    if text in NAMED:
        return text
    if text in ALIASES:
        return ALIASES[text]
    try:
        expression = expr.canonical(text)
    except expr.ExprError as exc:
        raise TaskError(f"task: {name!r} is neither a known operation ({', '.join(OPERATIONS)}) "
                        f"nor an expression in x and y: {exc}") from None
    return next((op for op, e in NAMED.items() if e == expression), expression)


def evaluate_op(op: str, x: np.ndarray, y: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """(answers, valid) of an operation over pairs; valid is False where it has no answer
    (a divisor 0 mod p), and such pairs are not in the task's universe."""
    op = canonical_op(op)
    x, y = np.asarray(x, np.int64), np.asarray(y, np.int64)
    if op == "cond":
        div, ok = expr.evaluate(expr.parse("x/y"), x, y, p)
        sub, _ = expr.evaluate(expr.parse("x-y"), x, y, p)
        odd = y % 2 == 1
        return np.where(odd, div, sub), np.where(odd, ok, True)
    return expr.evaluate(expr.parse(NAMED.get(op, op)), x, y, p)


def table(op: str, p: int) -> tuple[np.ndarray, np.ndarray]:
    """(answers, valid) over the whole p x p grid, indexed [x, y]."""
    x, y = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    answer, valid = evaluate_op(op, x, y, p)
    return np.broadcast_to(answer, x.shape), np.broadcast_to(valid, x.shape)


def symmetric_ceiling(op: str, p: int) -> float:
    """The best accuracy over all the operation's pairs that any answer of the unordered pair
    {x, y} can reach: what a symmetric combiner (sum, sum_sdr, product: the code of (x, y)
    equals that of (y, x)) can reach at most. 1.0 for a commutative operation; on a
    non-commutative one, each pair whose mirror has another answer costs half a pair."""
    answer, valid = table(op, p)
    both = valid & valid.T
    differ = both & (answer != answer.T)
    return float(1 - differ.sum() / 2 / valid.sum())


@lru_cache(maxsize=256)  # scoring asks for every curriculum record of every generation
def interacts(op: str, p: int) -> bool:
    """Whether the answer is more than a sum f(x) + g(y) mod p: `y`, `x^3` and `x^3+y` are a
    lookup per operand and an addition, which the search learns anyway, so `--rank-misses
    stages` gives such a stage no credit. Tested against one corner (x0, y0), the valid pair
    with the most valid pairs in its row and column: a sum has A[x,y] - A[x,y0] - A[x0,y] +
    A[x0,y0] = 0 wherever the four are defined."""
    answer, valid = table(op, p)
    x0, y0 = np.unravel_index(np.argmax(np.where(valid, valid.sum(1)[:, None] + valid.sum(0)[None, :], -1)), valid.shape)
    defined = valid & valid[:, [y0]] & valid[[x0], :]
    rest = (answer - answer[:, [y0]] - answer[[x0], :] + answer[x0, y0]) % p
    return bool((rest[defined] != 0).any())


def apply_op(op: str, x: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    return evaluate_op(op, x, y, p)[0]


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


@dataclass(frozen=True)
class TaskSpec:
    """Everything that fixes the data: operation, modulus and how pairs are split.

    `split_seed` is separate from the training seed so that re-training a pair on other
    seeds keeps the very same holdout set.

    `pool_frac` (None: `train_frac` itself) is the largest training fraction of a ladder
    (the data objective, README "Learning from less"): select and holdout are drawn from the
    pairs outside the first pool_frac of the order, so they are the same at every fraction
    of the ladder, and the training set is the first train_frac of that order, so each
    fraction's training set holds the next smaller one's.
    """

    op: str = "add"
    p: int = 97
    split: str = "random"
    train_frac: float = 0.5
    select_frac: float = 0.5
    pairs: str = "ordered"
    split_seed: int = 0
    pool_frac: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "op", canonical_op(self.op))
        if isinstance(self.p, bool) or not isinstance(self.p, int):
            raise TaskError(f"p: expected an integer, got {self.p!r}")
        if not P_MIN <= self.p <= P_MAX:
            raise TaskError(f"p: {self.p} is outside {P_MIN}..{P_MAX}")
        if not is_prime(self.p):
            raise TaskError(f"p: {self.p} is not prime")
        if self.split not in SPLITS:
            raise TaskError(f"split: unknown split {self.split!r} (known: {', '.join(SPLITS)})")
        if self.pairs not in PAIRS:
            raise TaskError(f"pairs: unknown value {self.pairs!r} (known: {', '.join(PAIRS)})")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int) \
                or not 0 <= self.split_seed < SEED_LIMIT:
            raise TaskError(f"split_seed: expected a whole number from 0 to 2**63-1, got {self.split_seed!r}")
        for name in ("train_frac", "select_frac"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
                raise TaskError(f"{name}: {value!r} must lie strictly between 0 and 1")
        if self.pool_frac is not None:
            if isinstance(self.pool_frac, bool) or not isinstance(self.pool_frac, (int, float)) \
                    or not self.train_frac <= self.pool_frac < 1.0:
                raise TaskError(f"pool_frac: {self.pool_frac!r} must lie from train_frac ({self.train_frac}) "
                                f"up to 1 (excluded)")

    @property
    def commutative(self) -> bool:
        """f(x, y) == f(y, x) wherever both have an answer, checked over all pairs mod p."""
        x, y = np.divmod(np.arange(self.p * self.p, dtype=np.int64), self.p)
        a, ok_a = evaluate_op(self.op, x, y, self.p)
        b, ok_b = evaluate_op(self.op, y, x, self.p)
        both = ok_a & ok_b
        return bool((a[both] == b[both]).all())

    def to_dict(self) -> dict[str, Any]:
        """Without pool_frac when it is unset: the task of a run made before the ladder."""
        out = asdict(self)
        if self.pool_frac is None:
            del out["pool_frac"]
        return out

    @property
    def pool(self) -> float:
        """The fraction of the order held back for training at some fraction of the ladder."""
        return self.train_frac if self.pool_frac is None else self.pool_frac

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TaskSpec":
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise TaskError(f"task.{unknown[0]}: unknown field")
        return cls(**data)


def universe(spec: TaskSpec) -> np.ndarray:
    """All admissible (x, y) pairs in the forum's generator order: x major, y minor."""
    x, y = np.divmod(np.arange(spec.p * spec.p, dtype=np.int64), spec.p)
    keep = evaluate_op(spec.op, x, y, spec.p)[1]
    if spec.pairs == "unordered":
        keep &= x < y
    elif spec.pairs == "unordered-diag":
        keep &= x <= y
    return np.stack([x[keep], y[keep]], axis=1)


@dataclass(frozen=True)
class Split:
    """Three disjoint index sets into `pairs`; labels come with the pairs."""

    spec: TaskSpec
    pairs: np.ndarray = field(repr=False)    # [N, 2] int64
    labels: np.ndarray = field(repr=False)   # [N] int64
    train: np.ndarray = field(repr=False)
    select: np.ndarray = field(repr=False)
    holdout: np.ndarray = field(repr=False)

    def sizes(self) -> dict[str, int]:
        return {"universe": len(self.pairs), "train": len(self.train),
                "select": len(self.select), "holdout": len(self.holdout)}

    def unseen_mirror(self, idx: np.ndarray | None = None) -> np.ndarray:
        """The indices of `idx` (default: the holdout) whose mirror (y, x) is not a training pair.

        A symmetric combiner sees (x, y) and (y, x) as one input, so on a commutative
        operation the rest of the holdout (or of select) is answered by memory.
        """
        idx = self.holdout if idx is None else idx
        p = self.spec.p
        train_keys = self.pairs[self.train, 0] * p + self.pairs[self.train, 1]
        mirror_keys = self.pairs[idx, 1] * p + self.pairs[idx, 0]
        keep = ~np.isin(mirror_keys, train_keys)
        return idx[keep]

    def scored_select(self, select: str) -> np.ndarray:
        """The select pairs a run is scored on: all, or (`unseen-mirror`) those whose mirror is
        not a training pair, so that memory of the mirror cannot pass for generalization."""
        return self.unseen_mirror(self.select) if select == "unseen-mirror" else self.select


def make_split(spec: TaskSpec) -> Split:
    """Split the universe: train = first round(f*N) of a seeded permutation (random) or of
    the generator order (ordered); the rest, past the first round(pool*N) (TaskSpec.pool:
    the training fraction itself unless a ladder sets it), is shuffled and cut into select
    and holdout."""
    pairs = universe(spec)
    n = len(pairs)
    n_train = int(round(spec.train_frac * n))
    n_pool = int(round(spec.pool * n))
    n_select = int(round(spec.select_frac * (n - n_pool)))
    n_holdout = n - n_pool - n_select
    if min(n_train, n_select, n_holdout) < 1:
        raise TaskError(
            f"train_frac: {spec.train_frac} leaves an empty set for p={spec.p} "
            f"({n} pairs -> train {n_train}, select {n_select}, holdout {n_holdout})")
    rng = np.random.default_rng(spec.split_seed)
    order = rng.permutation(n) if spec.split == "random" else np.arange(n)
    rest = order[n_pool:]
    if spec.split == "ordered":
        rest = rng.permutation(rest)
    labels = apply_op(spec.op, pairs[:, 0], pairs[:, 1], spec.p)
    return Split(spec, pairs, labels, np.sort(order[:n_train]),
                 np.sort(rest[:n_select]), np.sort(rest[n_select:]))
