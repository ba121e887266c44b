"""The Fourier analysis finds planted frequencies, and restriction keeps exactly them."""
import numpy as np
import pytest
import torch

from brains import introspect
from brains.gene import BrainGene
from brains.models import build_model

P = 23


def planted(freqs, width=6, seed=0):
    """[P, width]: each column a mix of cos/sin at the planted frequencies, plus a constant."""
    rng = np.random.default_rng(seed)
    x = np.arange(P)[:, None]
    out = np.full((P, width), 0.3)
    for k in freqs:
        out += rng.normal(size=width) * np.cos(2 * np.pi * k * x / P) + rng.normal(size=width) * np.sin(2 * np.pi * k * x / P)
    return out


def test_spectrum_against_a_slow_dft():
    values = planted([2, 5]) + np.random.default_rng(1).normal(size=(P, 6)) * 0.1
    slow = np.zeros(P // 2 + 1)
    for k in range(P):
        coeff = sum(values[x] * np.exp(-2j * np.pi * k * x / P) for x in range(P))
        slow[min(k, P - k)] += float(np.sum(np.abs(coeff) ** 2))
    assert np.allclose(introspect.spectrum(values), slow)


@pytest.mark.parametrize("freqs", [[3], [2, 7], [1, 5, 11]])
def test_key_frequencies_are_the_planted_ones(freqs):
    values = planted(freqs) + np.random.default_rng(2).normal(size=(P, 6)) * 0.05
    power = introspect.spectrum(values)
    keys = introspect.key_frequencies(power, share=0.95)
    assert sorted(keys) == sorted(freqs)
    assert introspect.held_share(power, keys) > 0.95


def test_restriction_keeps_planted_and_removes_the_rest():
    clean = planted([4, 9])
    noise = planted([1, 6], seed=3) - 0.3
    assert np.allclose(introspect.restrict(clean + noise, [4, 9]), clean)
    assert np.allclose(introspect.restrict(clean, [1]), 0.3)  # only the constant is left


def test_input_maps_of_concat_and_sum():
    """Concat: each operand its own block of the first layer; sum: one block for both."""
    torch.manual_seed(0)
    table = np.eye(P, dtype=np.float32)
    mlp = build_model(BrainGene(hidden=(8,)), 2 * P, P)
    maps = introspect.input_maps(mlp, table, "concat")
    w = mlp.net[0].weight.detach().double().numpy()
    assert np.allclose(maps["a"], w[:, :P].T) and np.allclose(maps["b"], w[:, P:].T)
    mlp_sum = build_model(BrainGene(hidden=(8,)), P, P)
    maps = introspect.input_maps(mlp_sum, table, "sum")
    assert np.allclose(maps["a"], maps["b"]) and np.allclose(maps["a"], mlp_sum.net[0].weight.detach().double().numpy().T)
    tf = build_model(BrainGene(family="transformer", n_layers=1, d_model=16, n_heads=2, d_mlp=16), P, P)
    maps = introspect.input_maps(tf, table, "brain:attention")
    assert np.allclose(maps["a"], tf.embed.weight.detach().double().numpy().T)
