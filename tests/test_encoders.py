"""Encoders: every numba kernel against a slow, obvious oracle; genes; the numba cache setup."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genome
from encoders import (COMBINERS, FAMILIES, EncoderGene, build_table, code_dim, feature_dim,
                      operand_codes, pair_features)
from encoders import _cache, kernels
from genome import GeneError
from strategies import value_strategy

PRIMES = (11, 23)
ROOT = Path(__file__).resolve().parents[1]


# ---- oracles: loops and numpy, no cleverness -------------------------------------------

def run_oracle(p: int, d: int, w: int, wrap: bool) -> np.ndarray:
    out = np.zeros((p, d), np.float32)
    for x in range(p):
        start = x * d // p if wrap else round(Fraction(x * (d - w), p - 1))
        for j in range(w):
            out[x, (start + j) % d] = 1
    return out


def varcycle_oracle(p: int, periods: np.ndarray, phases: np.ndarray, sharpness: float) -> np.ndarray:
    x = np.arange(p)[:, None]
    return (((1 + np.cos(2 * np.pi * (x / periods + phases))) / 2) ** sharpness).astype(np.float32)


def sawtooth_oracle(p: int, periods: np.ndarray, phases: np.ndarray, sharpness: float) -> np.ndarray:
    """Clock by clock: where the arm stands in its cycle, as a fraction of the period."""
    out = np.zeros((p, len(periods)))
    for x in range(p):
        for i, (period, phase) in enumerate(zip(periods, phases)):
            turns = x / period + phase
            out[x, i] = (turns - int(turns)) ** sharpness
    return out.astype(np.float32)


def fourier_oracle(p: int, freqs: list[int]) -> np.ndarray:
    cols = []
    for k in freqs:
        angle = 2 * np.pi * k * np.arange(p) / p
        cols += [np.cos(angle), np.sin(angle)]
    return np.stack(cols, axis=1).astype(np.float32)


def topk_oracle(x: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(x.shape, np.float32)
    for i, row in enumerate(x):
        out[i, np.argsort(-row, kind="stable")[:k]] = 1
    return out


def combine_oracle(table: np.ndarray, a: np.ndarray, b: np.ndarray, mode: str, k: int) -> np.ndarray:
    if mode == "concat":
        return np.concatenate([table[a], table[b]], axis=1)
    if mode == "product":
        return table[a] * table[b]
    total = table[a] + table[b]
    return total if mode == "sum" else topk_oracle(total, k)


def all_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.divmod(np.arange(p * p), p)
    return a, b


# ---- kernels against oracles ---------------------------------------------------------------

@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("p,d,w", [(11, 7, 2), (11, 12, 1), (23, 16, 5), (23, 40, 3), (5, 4, 3)])
def test_run_table_matches_oracle(p, d, w, wrap):
    # (11, 7, 2) puts x*(d-w)/(p-1) = x/2 on exact ties, checking round-half-to-even.
    np.testing.assert_array_equal(kernels.run_table(p, d, w, wrap), run_oracle(p, d, w, wrap))


@pytest.mark.parametrize("p", PRIMES)
@pytest.mark.parametrize("sharpness", [0.25, 1.0, 7.5])
def test_varcycle_table_matches_oracle(p, sharpness):
    rng = np.random.default_rng(p)
    periods, phases = rng.uniform(1.5, 60, size=9), rng.uniform(0, 1, size=9)
    got = kernels.varcycle_table(p, periods, phases, sharpness)
    np.testing.assert_allclose(got, varcycle_oracle(p, periods, phases, sharpness), rtol=1e-5, atol=1e-6)
    saw = kernels.varcycle_table(p, periods, phases, sharpness, True)
    np.testing.assert_allclose(saw, sawtooth_oracle(p, periods, phases, sharpness), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("p", PRIMES)
def test_fourier_table_matches_oracle(p):
    freqs = [1, 3, p - 1, p, p + 2, 4 * p + 5]  # k is taken mod p, so k = p gives constants
    got = kernels.fourier_table(p, np.array(freqs, np.int64))
    np.testing.assert_allclose(got, fourier_oracle(p, freqs), atol=1e-6)


@pytest.mark.parametrize("k", [1, 3, 7, 10])
def test_topk_rows_matches_oracle_with_ties(k):
    rng = np.random.default_rng(k)
    ties = rng.integers(0, 3, size=(200, 10)).astype(np.float32)  # few values: many ties
    floats = rng.standard_normal((50, 10)).astype(np.float32)
    for x in (ties, floats, np.zeros((3, 10), np.float32)):
        got = kernels.topk_rows(x, k)
        np.testing.assert_array_equal(got, topk_oracle(x, k))
        assert got.dtype == np.float32 and (got.sum(axis=1) == k).all()


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("mode", COMBINERS)
@pytest.mark.parametrize("p", PRIMES)
def test_combine_pairs_matches_oracle(p, mode, binary):
    rng = np.random.default_rng(p)
    table = rng.standard_normal((p, 12)).astype(np.float32)
    if binary:  # sums of binary codes tie often, which sum_sdr must break by column index
        table = (table > 0).astype(np.float32)
    a, b = all_pairs(p)
    got = kernels.combine_pairs(table, a, b, mode, 4)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, combine_oracle(table, a, b, mode, 4))


def test_combine_pairs_refuses_bad_input():
    table = np.eye(5, dtype=np.float32)
    ok = np.arange(5)
    with pytest.raises(ValueError, match="index array b"):
        kernels.combine_pairs(table, ok, ok + 1, "sum")
    with pytest.raises(ValueError, match="unknown combine mode"):
        kernels.combine_pairs(table, ok, ok, "xor")
    with pytest.raises(ValueError, match="k="):
        kernels.combine_pairs(table, ok, ok, "sum_sdr", 0)
    assert kernels.combine_pairs(table, ok[:0], ok[:0], "sum_sdr", 2).shape == (0, 5)
    for k in (0, 6):
        with pytest.raises(ValueError, match="k="):
            kernels.topk_rows(table, k)


# ---- families ------------------------------------------------------------------------------

def some_gene(family: str, **kw) -> EncoderGene:
    freqs = (1, 2, 5) if family == "fourier" else ()
    return EncoderGene(family=family, dim=24, width=0.2, freqs=freqs, period_min=2.0,
                       period_max=30.0, code_seed=3, **kw)


@pytest.mark.parametrize("p", PRIMES)
@pytest.mark.parametrize("family", FAMILIES)
def test_table_shape_dtype_determinism(family, p):
    gene = some_gene(family)
    table = build_table(gene, p)
    assert table.shape == (p, code_dim(gene, p)) and table.dtype == np.float32
    assert np.isfinite(table).all()
    np.testing.assert_array_equal(table, build_table(some_gene(family), p))


@pytest.mark.parametrize("family", ["random", "varcycle"])
def test_code_seed_changes_random_codes(family):
    gene = some_gene(family)
    other = EncoderGene.from_dict({**gene.to_dict(), "code_seed": 4})
    assert not np.array_equal(build_table(gene, 11), build_table(other, 11))


def test_families_follow_their_definitions():
    p = 11
    np.testing.assert_array_equal(build_table(some_gene("onehot"), p), np.eye(p))
    w = round(0.2 * 24)
    np.testing.assert_array_equal(build_table(some_gene("scalar"), p), run_oracle(p, 24, w, False))
    np.testing.assert_array_equal(build_table(some_gene("cyclic"), p), run_oracle(p, 24, w, True))
    fourier = build_table(some_gene("fourier"), p)
    np.testing.assert_allclose(fourier, fourier_oracle(p, [1, 2, 5]), atol=1e-6)
    all_freqs = build_table(EncoderGene(family="fourier"), p)  # empty freqs: k = 1..(p-1)/2
    np.testing.assert_allclose(all_freqs, fourier_oracle(p, [1, 2, 3, 4, 5]), atol=1e-6)
    # The draw protocol is part of what a code_seed means: periods (log-uniform), then phases.
    rng = np.random.default_rng(3)
    periods = np.exp(rng.uniform(np.log(2.0), np.log(30.0), size=24))
    phases = rng.uniform(0, 1, size=24)
    np.testing.assert_allclose(build_table(some_gene("varcycle"), p),
                               varcycle_oracle(p, periods, phases, 1.0), rtol=1e-5, atol=1e-6)
    norms = np.linalg.norm(build_table(EncoderGene(family="random", dim=512), 23), axis=1)
    assert 0.8 < norms.mean() < 1.2


@pytest.mark.parametrize("family", FAMILIES)
def test_sdr_sets_exactly_k_ones_per_row(family):
    gene = some_gene(family, sdr=0.3)
    table = build_table(gene, 23)
    k = max(1, round(0.3 * table.shape[1]))
    assert set(np.unique(table)) <= {0.0, 1.0} and (table.sum(axis=1) == k).all()


@pytest.mark.parametrize("combiner", COMBINERS)
def test_pair_features_shape_and_sum_sdr(combiner):
    p = 23
    gene = some_gene("random", combiner=combiner, combine_k=0.25)
    table = build_table(gene, p)
    a, b = all_pairs(p)
    features = pair_features(gene, table, a, b)
    assert features.shape == (p * p, feature_dim(gene, p)) and features.dtype == np.float32
    if combiner == "sum_sdr":
        assert (features.sum(axis=1) == round(0.25 * 24)).all()


def test_operand_codes_stack_both_codes():
    table = build_table(some_gene("varcycle"), 11)
    a, b = all_pairs(11)
    codes = operand_codes(table, a, b)
    assert codes.shape == (121, 2, 24) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes[:, 0], table[a])
    np.testing.assert_array_equal(codes[:, 1], table[b])


def test_unbuildable_for_this_p_names_the_field():
    one_freq = dict(family="fourier", freqs=(1,))  # d = 2
    with pytest.raises(GeneError, match=r"EncoderGene\.sdr"):
        build_table(EncoderGene(**one_freq, sdr=0.9), 11)
    with pytest.raises(GeneError, match=r"EncoderGene\.combine_k"):
        feature_dim(EncoderGene(**one_freq, combiner="sum_sdr", combine_k=0.9), 11)
    with pytest.raises(ValueError, match="modulus p"):
        build_table(EncoderGene(), 2)


# ---- genes ---------------------------------------------------------------------------------

@st.composite
def genes(draw: st.DrawFn) -> EncoderGene:
    fields = {name: value_strategy(spec) for name, spec in genome.specs(EncoderGene).items()}
    data = draw(st.fixed_dictionaries(fields))
    data["period_min"], data["period_max"] = sorted((data["period_min"], data["period_max"]))
    return EncoderGene.from_dict(data)


@settings(max_examples=200, deadline=None)
@given(genes())
def test_gene_json_round_trip(gene):
    back = EncoderGene.from_dict(json.loads(json.dumps(gene.to_dict())))
    assert back == gene and hash(back) == hash(gene)


@settings(max_examples=40, deadline=None)
@given(genes())
def test_any_valid_gene_builds_or_says_why(gene):
    try:
        table = build_table(gene, 11)
    except GeneError:
        return
    assert table.shape == (11, code_dim(gene, 11)) and table.dtype == np.float32
    assert np.isfinite(table).all()


@pytest.mark.parametrize("data,field", [
    ({"dim": 2}, "dim"),
    ({"dim": 16.0}, "dim"),
    ({"width": 0.9}, "width"),
    ({"freqs": [0]}, "freqs"),
    ({"freqs": [1] * 129}, "freqs"),
    ({"freqs": "1,2"}, "freqs"),
    ({"family": "polar"}, "family"),
    ({"combiner": "xor"}, "combiner"),
    ({"sdr": True}, "sdr"),
    ({"sharpness": float("nan")}, "sharpness"),
    ({"code_seed": -1}, "code_seed"),
    ({"period_min": 50.0, "period_max": 10.0}, "period_min"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_gene_names_the_field(data, field):
    with pytest.raises(GeneError, match=rf"EncoderGene\.{field}:"):
        EncoderGene.from_dict(data)


# ---- numba cache directory -----------------------------------------------------------------

@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A path that cannot be created, even by root: its parent is a regular file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    return blocker / "encoders"


def test_choose_cache_dir(tmp_path, unwritable, monkeypatch):
    choose = _cache.choose_cache_dir
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert _cache.is_writable_dir(str(tmp_path)) and not _cache.is_writable_dir(str(unwritable))
    assert choose(str(tmp_path), env) is None
    assert choose(str(unwritable), {**env, "NUMBA_CACHE_DIR": "/chosen"}) is None
    assert choose(str(unwritable), env) == str(tmp_path / "xdg" / "grokevo" / "numba")
    env["XDG_CACHE_HOME"] = str(unwritable)
    assert choose(str(unwritable), env) == str(tmp_path / "home" / ".cache" / "grokevo" / "numba")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    chosen = choose(str(unwritable), {"HOME": str(unwritable)})
    assert Path(chosen).parent == tmp_path / "tmp" and Path(chosen).name.startswith("grokevo-numba-")


@pytest.mark.parametrize("numba_first", [False, True])
def test_read_only_install_caches_under_home(tmp_path, numba_first):
    site, home = tmp_path / "site", tmp_path / "home"
    for package in ("genome", "encoders"):
        shutil.copytree(ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    (site / "encoders" / "__pycache__").write_text("")  # blocks the in-tree cache, even for root
    modes = {path: path.stat().st_mode for path in site.rglob("*")}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    script = ("import numba\n" if numba_first else "") + (
        "import json, os, encoders\n"
        "table = encoders.build_table(encoders.EncoderGene(family='cyclic', dim=16), 11)\n"
        "print(json.dumps({'file': encoders.__file__, 'cache': os.environ.get('NUMBA_CACHE_DIR'),"
        " 'table': table.tolist()}))\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    try:
        result = subprocess.run([sys.executable, "-c", script], cwd=site, env=env,
                                capture_output=True, text=True, timeout=120)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    cache = home / ".cache" / "grokevo" / "numba"
    assert Path(out["file"]).is_relative_to(site) and out["cache"] == str(cache)
    assert list(cache.rglob("*.nbi")), "numba wrote no cache index there"
    np.testing.assert_array_equal(np.array(out["table"], np.float32),
                                  build_table(EncoderGene(family="cyclic", dim=16), 11))
