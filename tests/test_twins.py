"""Twins: genes with one code have one key (Fourier frequencies reduced, folded and
listed once), and the front keeps one member of a set whose runs did the same thing,
saying how many it stands for."""
import dataclasses

import numpy as np

from brains.gene import BrainGene
from encoders import build_table
from encoders.gene import EncoderGene
from evo.pair import Pair
from evo.search.archive import behaviour, new_archive, twins
from evo.search.individuals import boxed
from evo.search.scoring import gene_key


def test_fourier_frequencies_are_reduced_folded_and_listed_once():
    gene = EncoderGene(family="fourier", freqs=(229, 165, 229, 62, 97))
    canon = gene.canonical(97)
    assert canon.freqs == (35, 29, 97)       # 229 = 35, 165 = 68 -> 29, 62 -> 35 again, 97 -> constant
    assert gene_key(canon) == gene_key(EncoderGene(family="fourier", freqs=(35, 68, 132, 194)).canonical(97))
    assert canon.canonical(97) == canon and EncoderGene().canonical(97) == EncoderGene()


def test_the_canonical_code_is_the_same_code_up_to_sign():
    """Oracle: every column of the canonical table is, up to sign, a column of the table
    as written, and every column as written is, up to sign, one of the canonical ones."""
    gene = EncoderGene(family="fourier", freqs=(229, 165, 229, 62))
    old, new = build_table(gene, 97), build_table(gene.canonical(97), 97)

    def covered(cols, by):
        return all(any(np.allclose(c, s * b, atol=1e-5) for b in by.T for s in (1, -1)) for c in cols.T)
    assert covered(new, old) and covered(old, new)


def test_the_front_keeps_one_of_a_set_of_twins():
    """The default run (seed 0) ended with p00 and p01 equal in every figure and curve,
    their genes differing only in a gradient clip never reached: one stays now."""
    record = {"steps_to_threshold": 300, "flops_to_threshold": 1e9, "seconds_to_threshold": 1.0, "params": 2562,
              "diverged": False,
              "curve": [{"step": 10, "select_acc": 0.5}, {"step": 20, "select_acc": 0.995}]}
    a = Pair(EncoderGene(), BrainGene(grad_clip=85.6))
    b = Pair(EncoderGene(), dataclasses.replace(a.brain, grad_clip=100.0))
    other = {**record, "curve": [{"step": 10, "select_acc": 0.6}, {"step": 20, "select_acc": 0.995}]}
    c = Pair(EncoderGene(), dataclasses.replace(a.brain, lr=0.01))
    archive = new_archive()
    archive.update([boxed("pair", a, (9.0, 3.4), behaviour(record)), boxed("pair", b, (9.0, 3.4), behaviour(record))])
    archive.update([boxed("pair", c, (9.0, 3.4), behaviour(other))])
    assert len(archive) == 2 and {ind.gene for ind in archive} == {a, c}
    assert twins(record, [record, dict(record), other], "flops", "size") == 1
    assert twins(other, [record, dict(record), other], "flops", "size") == 0


def test_under_ties_one_the_front_keeps_one_member_per_point():
    """--ties one: a pair equal to a member on every objective does not enter, whatever its
    curve; a pair that dominates still replaces it, and one that trades still joins."""
    record = {"curve": [{"step": 10, "select_acc": 0.995}]}
    other = {"curve": [{"step": 10, "select_acc": 0.999}]}
    a = Pair(EncoderGene(), BrainGene(lr=0.01))
    b = Pair(EncoderGene(), BrainGene(lr=0.02))
    c = Pair(EncoderGene(), BrainGene(lr=0.03))
    d = Pair(EncoderGene(), BrainGene(lr=0.04))
    kept = new_archive("keep")
    kept.update([boxed("pair", a, (1.0, 3.0), behaviour(record)), boxed("pair", b, (1.0, 3.0), behaviour(other))])
    assert len(kept) == 2
    one = new_archive("one")
    one.update([boxed("pair", a, (1.0, 3.0), behaviour(record)), boxed("pair", b, (1.0, 3.0), behaviour(other))])
    assert [ind.gene for ind in one] == [a]
    one.update([boxed("pair", c, (1.0, 2.5), behaviour(other)), boxed("pair", d, (0.5, 3.5), behaviour(other))])
    assert {ind.gene for ind in one} == {c, d}
