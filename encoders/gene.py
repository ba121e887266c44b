"""The encoder gene: how one operand is seen ("the spectacles"), and how two meet."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import genome
from genome import gene_field

FAMILIES = ("onehot", "random", "scalar", "cyclic", "varcycle", "fourier")
COMBINERS = ("concat", "sum", "sum_sdr", "product")
SYMMETRIC_COMBINERS = frozenset({"sum", "sum_sdr", "product"})   # they code (x, y) as (y, x)
WAVEFORMS = ("cosine", "sawtooth")


@dataclass(frozen=True)
class EncoderGene:
    """One operand's code is a row of a table enc[p, d]; it never sees labels or the operation.

    Fields that a family does not use are kept (not dropped) so that a family switch during
    mutation can come back to earlier settings.
    """

    family: str = gene_field("onehot", "choice", choices=FAMILIES,
                             doc="which table builder")
    dim: int = gene_field(128, "int", lo=4, hi=1024, log=True, draw=(16, 256),
                          when="family=random|scalar|cyclic|varcycle",
                          doc="code width d (onehot: p; fourier: 2 x number of frequencies)")
    width: float = gene_field(0.1, "float", lo=0.005, hi=0.5, when="family=scalar|cyclic",
                              doc="scalar/cyclic: fraction of d in the active run")
    freqs: tuple[int, ...] = gene_field((), "ints", lo=1, hi=1024, min_len=0, max_len=128,
                                        when="family=fourier",
                                        doc="fourier: frequencies k (taken mod p); empty = all 1..(p-1)/2")
    period_min: float = gene_field(2.0, "float", lo=1.5, hi=4096.0, log=True, when="family=varcycle",
                                   doc="varcycle: shortest clock period")
    period_max: float = gene_field(100.0, "float", lo=1.5, hi=4096.0, log=True, when="family=varcycle",
                                   doc="varcycle: longest clock period")
    sharpness: float = gene_field(1.0, "float", lo=0.25, hi=32.0, log=True, when="family=varcycle",
                                  doc="varcycle: exponent of the periodic bump")
    waveform: str = gene_field("cosine", "choice", choices=WAVEFORMS, when="family=varcycle",
                               doc="varcycle: a clock's reading, a cosine bump or a sawtooth "
                                   "(the forum's clocks: position of the arm in its cycle)")
    code_seed: int = gene_field(0, "int", lo=0, hi=2**31 - 1, when="family=random|varcycle",
                                doc="random/varcycle: seed of the code's random draws")
    sdr: float = gene_field(0.0, "float", lo=0.02, hi=0.9, off=0.0, p_on=0.3,
                            doc="fraction of each row set to 1 (top-k), the rest 0; 0 = off")
    combiner: str = gene_field("concat", "choice", choices=COMBINERS,
                               doc="how the two operands' codes meet (MLP brains)")
    combine_k: float = gene_field(1 / 3, "float", lo=0.01, hi=0.9, when="combiner=sum_sdr",
                                  doc="sum_sdr: fraction of the summed code set to 1")

    def __post_init__(self) -> None:
        genome.validate(self)
        if self.period_min > self.period_max:
            raise genome.GeneError(
                f"EncoderGene.period_min: {self.period_min} exceeds period_max {self.period_max}")

    def canonical(self, p: int) -> "EncoderGene":
        """The same code under one name: Fourier frequencies reduced mod p (a multiple of p,
        a constant code, is written p); for a dense code also folded (k and p - k give the
        same code up to the sign of its sine column) and listed once, in the order they
        first appear. A sparse code (sdr, or the sum_sdr combiner) keeps its columns as they
        are: its top-k reads their signs and counts duplicates. A run (whose p is fixed)
        keeps its genes canonical, so that genes with one code have one key and the front
        holds no twins that differ only in how a frequency is written."""
        if self.family != "fourier" or not self.freqs:
            return self
        reduced = [k % p or p for k in self.freqs]
        if self.sdr or self.combiner == "sum_sdr":
            return dataclasses.replace(self, freqs=tuple(reduced))
        canon: list[int] = []
        for r in reduced:
            c = min(r, p - r) if r != p else p
            if c not in canon:
                canon.append(c)
        return dataclasses.replace(self, freqs=tuple(canon))

    def to_dict(self) -> dict[str, Any]:
        return genome.to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "EncoderGene":
        return genome.from_dict(cls, data)
