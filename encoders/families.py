"""From an EncoderGene and a modulus p to a code table, and from a table to pair features.

A gene is valid on its own (genome checks ranges), but whether it can be built depends on
p: a fourier code's width and a onehot code's width are set by p, and with them whether a
run or a top-k still leaves room for two codes to differ. Those checks live here and raise
GeneError naming the field, so an evolution loop can discard such a gene for this p.
"""
from __future__ import annotations

import operator

import numpy as np

from encoders.gene import EncoderGene
from encoders.kernels import combine_pairs, fourier_table, run_table, topk_rows, varcycle_table
from genome import GeneError


def _fail(name: str, message: str) -> GeneError:
    return GeneError(f"EncoderGene.{name}: {message}")


def _check_p(p: int) -> int:
    p = operator.index(p)
    if p < 3:
        raise ValueError(f"modulus p must be at least 3, got {p}")
    return p


def _run_width(gene: EncoderGene, d: int) -> int:
    """Ones in a scalar/cyclic run; a run as wide as the code would make every code equal."""
    w = max(1, round(gene.width * d))
    if w >= d:
        raise _fail("width", f"{gene.width} of d={d} gives a run of {w} ones, which must be below d")
    return w


def _ones_count(name: str, fraction: float, d: int) -> int:
    """k of a top-k: all d columns set would make every code (or every pair) the same."""
    k = max(1, round(fraction * d))
    if k >= d:
        raise _fail(name, f"{fraction} of d={d} sets {k} ones, which must be below d")
    return k


def _fourier_freqs(gene: EncoderGene, p: int) -> np.ndarray:
    return np.array(gene.freqs or range(1, (p - 1) // 2 + 1), dtype=np.int64)


def code_dim(gene: EncoderGene, p: int) -> int:
    """Width d of one operand's code for this p, after checking the gene can be built for p."""
    p = _check_p(p)
    if gene.family == "onehot":
        d = p
    elif gene.family == "fourier":
        d = 2 * len(_fourier_freqs(gene, p))
    else:
        d = gene.dim
    if gene.family in ("scalar", "cyclic"):
        _run_width(gene, d)
    if gene.sdr > 0:
        _ones_count("sdr", gene.sdr, d)
    return d


def build_table(gene: EncoderGene, p: int) -> np.ndarray:
    """The code table enc[p, d], float32: row x is what the brain sees of operand x."""
    d = code_dim(gene, p)
    rng = np.random.default_rng(gene.code_seed)
    if gene.family == "onehot":
        table = np.eye(p, dtype=np.float32)
    elif gene.family == "random":
        # Scaled so rows have norm about 1 whatever d is, like the onehot rows.
        table = (rng.standard_normal((p, d)) / np.sqrt(d)).astype(np.float32)
    elif gene.family in ("scalar", "cyclic"):
        table = run_table(p, d, _run_width(gene, d), gene.family == "cyclic")
    elif gene.family == "varcycle":
        periods = np.exp(rng.uniform(np.log(gene.period_min), np.log(gene.period_max), size=d))
        phases = rng.uniform(0.0, 1.0, size=d)
        table = varcycle_table(p, periods, phases, gene.sharpness, gene.waveform == "sawtooth")
    elif gene.family == "fourier":
        table = fourier_table(p, _fourier_freqs(gene, p))
    else:  # unreachable for a validated gene; kept loud in case FAMILIES grows
        raise _fail("family", f"no table builder for {gene.family!r}")
    if gene.sdr > 0:
        table = topk_rows(table, _ones_count("sdr", gene.sdr, d))
    return table


def feature_dim(gene: EncoderGene, p: int) -> int:
    """Width of one pair's features under gene.combiner, so a brain can be sized unbuilt."""
    d = code_dim(gene, p)
    if gene.combiner == "sum_sdr":
        _ones_count("combine_k", gene.combine_k, d)
    return 2 * d if gene.combiner == "concat" else d


def pair_features(gene: EncoderGene, table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 [n, feature_dim] features of pairs (a[i], b[i]), combined as the gene says."""
    k = _ones_count("combine_k", gene.combine_k, table.shape[1]) if gene.combiner == "sum_sdr" else 0
    return combine_pairs(table, a, b, gene.combiner, k)


def operand_codes(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 [n, 2, d]: both operands' codes uncombined, for brains that combine themselves.

    A concat row is the two codes back to back, so this is the concat kernel reshaped.
    """
    return combine_pairs(table, a, b, "concat").reshape(len(a), 2, table.shape[1])
