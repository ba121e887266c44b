"""Hypothesis strategies drawn from the ranges that genes declare (genome.FieldSpec)."""
from __future__ import annotations

from hypothesis import strategies as st

import genome


def value_strategy(spec: genome.FieldSpec) -> st.SearchStrategy:
    if spec.kind == "int":
        values = st.integers(int(spec.lo), int(spec.hi))
        return values if spec.off is None else st.one_of(st.just(int(spec.off)), values)
    if spec.kind == "float":
        values = st.floats(spec.lo, spec.hi, allow_nan=False)
        return values if spec.off is None else st.one_of(st.just(float(spec.off)), values)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    assert spec.kind == "ints"
    items = st.integers(int(spec.lo), int(spec.hi))
    return st.lists(items, min_size=spec.min_len, max_size=spec.max_len)


def gene_dicts(cls: type) -> st.SearchStrategy:
    """Dicts of in-range values for every field of a gene class (cross-field rules not applied)."""
    return st.fixed_dictionaries({name: value_strategy(spec) for name, spec in genome.specs(cls).items()})
