"""Random draws, mutation and crossover of genes, driven by the ranges genes declare.

Every operator takes an explicit `random.Random` (the search checkpoints its state) and
returns a valid gene: a candidate that breaks a cross-field rule or cannot be built for the
task (`is_valid` says) is redrawn, up to a bound, and the parent is returned unchanged as
the last resort so that an operator never fails.
"""
from __future__ import annotations

import dataclasses
import math
import random
from typing import Any, Callable, TypeVar

import genome
from genome import FieldSpec, GeneError

G = TypeVar("G")
TRIES = 50
# A random draw has no parent to fall back on. On a non-commutative task three combiners of
# four are refused and many draws fail to build, so 50 tries ran out for about 1 draw in
# 2,500 and stopped the search (experiments/draw_odds.py found it); a draw that succeeds
# within 50 is the same gene as before.
DRAW_TRIES = 2000


def _draw_number(spec: FieldSpec, rng: random.Random, priors: bool = True) -> float:
    lo, hi = spec.draw if priors and spec.draw is not None else (spec.lo, spec.hi)
    lo, hi = float(lo), float(hi)
    if spec.log:
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return rng.uniform(lo, hi)


def _fresh(spec: FieldSpec, rng: random.Random, priors: bool = True) -> Any:
    """One value (an item, for "ints") drawn from the field's range."""
    return _as_kind(_draw_number(spec, rng, priors), spec)


def _as_kind(value: float, spec: FieldSpec) -> Any:
    value = min(max(value, float(spec.lo)), float(spec.hi))
    return int(round(value)) if spec.kind in ("int", "ints") else float(value)


def draw_value(spec: FieldSpec, rng: random.Random, priors: bool = True) -> Any:
    """A value from the declared range; a bool is True, and a field with an `off` value is
    on, with the field's declared chance `p_on` (one half with `priors=False`)."""
    p_on = spec.p_on if priors else 0.5
    if spec.kind == "bool":
        return rng.random() < p_on
    if spec.kind == "choice":
        return rng.choice(spec.choices)
    if spec.kind == "ints":
        lo, hi = spec.draw_len if priors and spec.draw_len is not None else \
            (spec.min_len, min(spec.max_len, spec.min_len + 3))
        n = rng.randint(lo, hi)
        return tuple(_fresh(spec, rng, priors) for _ in range(n))
    if spec.off is not None and rng.random() < 1 - p_on:
        return spec.off
    return _fresh(spec, rng, priors)


def perturb_value(value: Any, spec: FieldSpec, rng: random.Random, scale: float = 0.3) -> Any:
    """A nearby value: a Gaussian step of `scale` of the range (or of a decade on log
    fields); toggles off/on; adds, removes or perturbs one item of a tuple (of a `labels`
    tuple: adds or redraws one by a fresh draw)."""
    if spec.kind == "bool":
        return not value
    if spec.kind == "choice":
        others = [c for c in spec.choices if c != value]
        return rng.choice(others) if others else value
    if spec.kind == "ints":
        items = list(value)
        move = rng.random()
        if move < 0.25 and len(items) < spec.max_len:
            items.insert(rng.randint(0, len(items)), _fresh(spec, rng) if not items or spec.labels
                         else rng.choice(items))
        elif move < 0.5 and len(items) > spec.min_len:
            items.pop(rng.randrange(len(items)))
        elif items:
            i = rng.randrange(len(items))
            items[i] = _fresh(spec, rng) if spec.labels else _step(items[i], spec, rng, scale)
        return tuple(items)
    if spec.off is not None and value == spec.off:
        return _fresh(spec, rng)
    if spec.off is not None and rng.random() < 0.2:
        return spec.off
    return _step(value, spec, rng, scale)


def _step(value: float, spec: FieldSpec, rng: random.Random, scale: float) -> Any:
    lo, hi = float(spec.lo), float(spec.hi)
    if spec.log:
        new = math.exp(math.log(max(value, lo)) + rng.gauss(0.0, scale * math.log(10)))
    else:
        new = value + rng.gauss(0.0, scale * (hi - lo))
    new = _as_kind(new, spec)
    if spec.kind == "int" and new == value:  # integers must move, or mutation stalls
        new = _as_kind(value + rng.choice((-1, 1)), spec)
    return new


def offered(gene_or_cls: Any, frozen: frozenset[str]) -> dict[str, FieldSpec]:
    """The gene's specs as a run offers them: an entry "field=choice" in `frozen` holds that
    choice out of draws and mutations (a gene holding it stays valid), so that a run that does
    not opt into a newer choice draws exactly as it did before the choice existed. An entry
    "field<n" draws and moves the field's items under n only."""
    out = {}
    for name, spec in genome.specs(gene_or_cls).items():
        held = {c for c in spec.choices if f"{name}={c}" in frozen}
        out[name] = dataclasses.replace(spec, choices=tuple(c for c in spec.choices if c not in held)) \
            if held else spec
        below = [int(entry.split("<")[1]) for entry in frozen if entry.startswith(f"{name}<")]
        if below:  # "field<n": a labels field's items drawn under n (a curriculum pool of n operations)
            out[name] = dataclasses.replace(out[name], hi=min(float(out[name].hi), min(below) - 1), draw=None)
    return out


def _first_valid(make: Callable[[], G], fallback: G, is_valid: Callable[[G], bool], tries: int = TRIES) -> G:
    for _ in range(tries):
        try:
            gene = make()
        except GeneError:
            continue
        if is_valid(gene):
            return gene
    return fallback


def random_gene(cls: type[G], rng: random.Random, is_valid: Callable[[G], bool] = lambda g: True,
                priors: bool = True, frozen: frozenset[str] = frozenset(), **fixed: Any) -> G:
    """A gene drawn field by field from its declared ranges (`fixed` pins some fields to
    values, `frozen` to their defaults, drawing nothing for them); `priors=False` ignores
    the fields' `p_on` (every switch on half the time)."""
    specs = {name: spec for name, spec in offered(cls, frozen).items() if name not in frozen}

    def make() -> G:
        return cls(**{name: fixed[name] if name in fixed else draw_value(spec, rng, priors)
                      for name, spec in specs.items()})
    gene = _first_valid(make, None, is_valid, DRAW_TRIES)  # type: ignore[arg-type]
    if gene is None:
        raise GeneError(f"{cls.__name__}: no valid random gene in {DRAW_TRIES} draws")
    return gene


def mutate(gene: G, rng: random.Random, is_valid: Callable[[G], bool] = lambda g: True,
           n_fields: int = 2, frozen: frozenset[str] = frozenset()) -> G:
    """Change 1..n_fields of the fields that matter for this gene (picking `family` is a
    family switch), so that a mutant never differs only in fields nothing reads; `frozen`
    fields (what the run holds fixed) are never picked."""
    specs = offered(gene, frozen)
    names = [name for name, spec in specs.items() if genome.is_active(gene, spec) and name not in frozen]

    def make() -> G:
        chosen = rng.sample(names, rng.randint(1, n_fields))
        return dataclasses.replace(gene, **{n: perturb_value(getattr(gene, n), specs[n], rng)
                                            for n in chosen})
    return _first_valid(make, gene, lambda g: genome.active(g) != genome.active(gene) and is_valid(g))


def crossover(a: G, b: G, rng: random.Random, is_valid: Callable[[G], bool] = lambda g: True,
              frozen: frozenset[str] = frozenset()) -> G:
    """Uniform crossover: each field (but the `frozen`, kept from `a`) from either parent; a
    `swap_items` field that matters to both parents is crossed item by item (cross_items)."""
    specs = genome.specs(a)
    by_item = {n for n, spec in specs.items() if spec.swap_items and n not in frozen
               and genome.is_active(a, spec) and genome.is_active(b, spec)}

    def make() -> G:
        return dataclasses.replace(a, **{n: cross_items(getattr(a, n), getattr(b, n), rng) if n in by_item
                                         else getattr(b, n) for n in specs
                                         if n not in frozen and (n in by_item or rng.random() < 0.5)})
    return _first_valid(make, a, is_valid)


def cross_items(x: tuple, y: tuple, rng: random.Random) -> tuple:
    """Whole items from either parent, position by position (a child's block i is one
    parent's block i); the child's length is one parent's, and where only one parent has a
    position, its item is taken."""
    n = len(x) if rng.random() < 0.5 else len(y)
    return tuple(rng.choice([t[i] for t in (x, y) if i < len(t)]) for i in range(n))


# -- one-step neighbours (--polish: evo.search.loop.Search.polished) ---------------------------
STEP = 2.0          # a log field moves by this factor
LINEAR_STEP = 0.1   # a linear field moves by this fraction of its range


def _moves(value: Any, spec: FieldSpec) -> list[Any]:
    """The values one step from `value` along one field: a bool toggled, each other choice,
    a log number times and over STEP, a linear one up and down LINEAR_STEP of its range, a
    switch turned off (or on, at the middle of its draw range), a tuple grown or shrunk by its
    last item or every item scaled (a `labels` tuple shrunk, grown by each label but its last,
    or its last item changed to each other label: a curriculum that crossed x*y^2 is one step from
    x*y^2 -> x*y^2+y)."""
    if spec.kind == "bool":
        return [not value]
    if spec.kind == "choice":
        return [c for c in spec.choices if c != value]
    if spec.kind == "ints":
        items = list(value)
        out = [tuple(items[:-1])] if len(items) > spec.min_len else []
        if spec.labels:  # a repeat or a scaled index names no nearby thing: every other label instead
            labels = range(int(spec.lo), int(spec.hi) + 1)
            if len(items) < spec.max_len:
                out += [tuple(items + [v]) for v in labels if not items or v != items[-1]]
            return out + [tuple(items[:-1] + [v]) for v in labels if items and v != items[-1]]
        if items and len(items) < spec.max_len:
            out.append(tuple(items + items[-1:]))
        for factor in (STEP, 1 / STEP):
            out.append(tuple(_as_kind(v * factor, spec) for v in items))
        return out
    if spec.off is not None and value == spec.off:
        lo, hi = spec.draw if spec.draw is not None else (spec.lo, spec.hi)
        return [_as_kind(math.sqrt(lo * hi) if spec.log else (lo + hi) / 2, spec)]
    out = [spec.off] if spec.off is not None else []
    if spec.log:
        out += [_as_kind(value * STEP, spec), _as_kind(value / STEP, spec)]
    else:
        delta = LINEAR_STEP * (float(spec.hi) - float(spec.lo))
        delta = max(1, round(delta)) if spec.kind == "int" else delta
        out += [_as_kind(value + delta, spec), _as_kind(value - delta, spec)]
    return out


def neighbours(gene: G, is_valid: Callable[[G], bool] = lambda g: True,
               frozen: frozenset[str] = frozenset()) -> list[G]:
    """Every valid gene one step from `gene` along one field that matters (no randomness): a
    coordinate line search around a fast pair, which random mutation reaches only by luck (a
    step needs the right field, out of some 25, and the right direction). In field order,
    without repeats or genes that behave like `gene`."""
    specs = offered(gene, frozen)
    seen = {genome.key(gene)}
    out: list[G] = []
    for name, spec in specs.items():
        if name in frozen or not genome.is_active(gene, spec):
            continue
        for value in _moves(getattr(gene, name), spec):
            try:
                child = dataclasses.replace(gene, **{name: value})
            except GeneError:
                continue
            key = genome.key(child)
            if key not in seen and is_valid(child):
                seen.add(key)
                out.append(child)
    return out
