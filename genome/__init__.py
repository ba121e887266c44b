"""Genes whose fields declare their own ranges.

Every gene in grokevo is a frozen dataclass. Each field carries a `FieldSpec` in its
metadata, so that one generic piece of code can validate a gene read from JSON, report
the exact field that is wrong, and (later) mutate or draw genes without a hand-written
table per family. This package sits below `encoders/` and `brains/`, which both use it;
it knows nothing of either.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, TypeVar

G = TypeVar("G")


class GeneError(ValueError):
    """A gene field holds a value outside its declared range or of the wrong type."""


@dataclass(frozen=True)
class FieldSpec:
    """What values a gene field may take.

    kind is one of "int", "float", "bool", "choice", "ints" (a tuple of ints).
    For "ints", lo/hi bound the items and min_len/max_len the length.
    `log` says that the natural scale of the field is logarithmic (learning rates).
    `off` is the value that switches a feature off (sdr 0, grokfast_lambda 0); it is valid
    besides [lo, hi], and a search must be able to land on it exactly.
    `when` names the condition under which the field matters, "field=a|b" or "field!=v"
    (a transformer's width means nothing to an MLP): `active` uses it so that genes that
    differ only in unused fields count as the same behaviour.
    `p_on` is the chance that a random draw switches the feature on (a bool True, a field
    with an `off` value not off): mechanisms that most recipes do without start rare, so
    that a random population is not mostly made of them; mutation still toggles them.
    `quiet` leaves the field out of JSON while it holds its default, so that genes written
    before the field existed keep their keys and files (the curriculum fields).
    `draw` (lo, hi) narrows where random draws land (for "ints", the items) and `draw_len`
    the length of a drawn "ints": the declared range is what is valid and what mutation can
    reach, the draw range is where a network trains at all in a few hundred steps (a random
    learning rate of 1e-5 or 20 layers of width 1 only waste a run).
    `labels` says that an "ints" field's items name things (a curriculum's operations), not
    sizes: mutation inserts and changes items by fresh draws, never by copying a neighbour or
    stepping from it (a repeated operation teaches nothing; index 3 is not near index 4).
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int = 0
    max_len: int = 0
    log: bool = False
    off: float | None = None
    when: str = ""
    doc: str = ""
    p_on: float = 0.5
    draw: tuple[float, float] | None = None
    draw_len: tuple[int, int] | None = None
    quiet: bool = False
    swap_items: bool = False
    labels: bool = False


def gene_field(default: Any, kind: str, *, lo: float | None = None, hi: float | None = None,
               choices: Iterable[str] = (), min_len: int = 0, max_len: int = 0,
               log: bool = False, off: float | None = None, when: str = "", doc: str = "",
               p_on: float = 0.5, draw: tuple[float, float] | None = None,
               draw_len: tuple[int, int] | None = None, quiet: bool = False, swap_items: bool = False,
               labels: bool = False) -> Any:
    """A dataclass field whose metadata declares its range."""
    spec = FieldSpec(kind, lo, hi, tuple(choices), min_len, max_len, log, off, when, doc, p_on, draw, draw_len,
                     quiet, swap_items, labels)
    return field(default=default, metadata={"spec": spec})


def specs(gene_or_cls: Any) -> dict[str, FieldSpec]:
    """The declared specs of a gene class, by field name, in declaration order."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(gene_or_cls)}


def _fail(owner: str, name: str, message: str) -> GeneError:
    return GeneError(f"{owner}.{name}: {message}")


def _check_number(owner: str, name: str, value: float, spec: FieldSpec) -> None:
    if spec.lo is not None and value < spec.lo:
        raise _fail(owner, name, f"{value!r} is below the minimum {spec.lo}")
    if spec.hi is not None and value > spec.hi:
        raise _fail(owner, name, f"{value!r} is above the maximum {spec.hi}")


def coerce_field(owner: str, name: str, value: Any, spec: FieldSpec) -> Any:
    """Check one value against its spec and return it in canonical form (lists become tuples)."""
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise _fail(owner, name, f"expected true or false, got {value!r}")
        return value
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(owner, name, f"expected an integer, got {value!r}")
        if spec.off is not None and value == spec.off:
            return value
        _check_number(owner, name, value, spec)
        return value
    if spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(owner, name, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise _fail(owner, name, f"expected a finite number, got {value!r}")
        if spec.off is not None and value == spec.off:
            return float(value)
        _check_number(owner, name, float(value), spec)
        return float(value)
    if spec.kind == "choice":
        if value not in spec.choices:
            raise _fail(owner, name, f"{value!r} is not one of {', '.join(spec.choices)}")
        return value
    if spec.kind == "ints":
        if not isinstance(value, (list, tuple)):
            raise _fail(owner, name, f"expected a list of integers, got {value!r}")
        if not spec.min_len <= len(value) <= spec.max_len:
            raise _fail(owner, name, f"length {len(value)} is outside {spec.min_len}..{spec.max_len}")
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                raise _fail(owner, name, f"expected integers, got {item!r}")
            _check_number(owner, name, item, spec)
        return tuple(value)
    raise TypeError(f"unknown field kind {spec.kind!r}")


def validate(gene: Any) -> None:
    """Raise GeneError naming the first field of `gene` that breaks its spec.

    Genes call this from __post_init__, so an invalid gene can never be built; lists given
    for tuple fields are converted in place (allowed on a frozen dataclass via
    object.__setattr__) so that equal genes hash equally.
    """
    owner = type(gene).__name__
    for name, spec in specs(gene).items():
        value = coerce_field(owner, name, getattr(gene, name), spec)
        object.__setattr__(gene, name, value)


def is_active(gene: Any, spec: FieldSpec) -> bool:
    """Whether the field matters for this gene: its `when` condition holds and the field
    the condition reads matters itself (a filter's window means nothing when the filter is off)."""
    if not spec.when:
        return True
    if "!=" in spec.when:
        name, value = spec.when.split("!=")
        holds = str(getattr(gene, name)) != value
    else:
        name, values = spec.when.split("=")
        holds = str(getattr(gene, name)) in values.split("|")
    return holds and is_active(gene, specs(gene)[name])


def active(gene: Any) -> dict[str, Any]:
    """The JSON dict of the fields that matter: two genes with equal `active` dicts behave
    the same, so a cache keyed on it never trains the same behaviour twice."""
    declared = specs(gene)
    return {name: value for name, value in to_dict(gene).items() if is_active(gene, declared[name])}


def key(gene: Any) -> str:
    """`active` as one string: the key of a gene's behaviour (caches, duplicate checks)."""
    return json.dumps(active(gene), sort_keys=True)


def to_dict(gene: Any) -> dict[str, Any]:
    """A JSON-ready dict of the gene (tuples become lists; quiet fields at their default left out)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(gene):
        value = getattr(gene, f.name)
        if f.metadata["spec"].quiet and value == f.default:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def from_dict(cls: type[G], data: Any) -> G:
    """Build a gene from a JSON dict; missing fields take their defaults, unknown ones are refused."""
    owner = cls.__name__
    if not isinstance(data, dict):
        raise GeneError(f"{owner}: expected a JSON object, got {type(data).__name__}")
    known = specs(cls)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise GeneError(f"{owner}.{unknown[0]}: unknown field (known: {', '.join(known)})")
    return cls(**data)
