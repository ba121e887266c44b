"""Tasks: binary operations mod p (named, or expressions of a small grammar) and the three
disjoint splits of their pairs (train, select, holdout)."""
from evo.tasks.spec import (
    ALIASES,
    NAMED,
    OPERATIONS,
    P_MAX,
    P_MIN,
    PAIRS,
    SEED_LIMIT,
    SELECTS,
    SPLITS,
    Split,
    TaskError,
    TaskSpec,
    apply_op,
    canonical_op,
    evaluate_op,
    interacts,
    is_prime,
    make_split,
    symmetric_ceiling,
    universe,
)

__all__ = ["ALIASES", "NAMED", "OPERATIONS", "P_MAX", "P_MIN", "PAIRS", "SEED_LIMIT", "SELECTS", "SPLITS", "Split",
           "TaskError", "TaskSpec", "apply_op", "canonical_op", "evaluate_op", "interacts", "is_prime", "make_split",
           "symmetric_ceiling", "universe"]
