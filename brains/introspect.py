"""What a trained network learned about the residues: the Fourier spectrum of its input side.

Nanda et al. (2023) found that networks that grok modular addition represent each operand
by a few frequencies k (cos and sin of 2*pi*k*x/p) and compute the answer with trig
identities. These pure functions look for that: the map from a residue to what the first
layer receives, its power per frequency, the few frequencies that hold most of it, and a
code table restricted to them (the evaluator then checks accuracy with it: Nanda's
restricted-loss test, done on the input side).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

LINEAR_COMBINERS = ("concat", "sum")


def first_linear(model: nn.Module) -> nn.Linear:
    """The layer that reads the encoder's codes (a transformer's embedding, an MLP's or a
    forward-forward network's first layer)."""
    embed = getattr(model, "embed", None)
    if isinstance(embed, nn.Linear):
        return embed
    return next(m for m in model.modules() if isinstance(m, nn.Linear))


@torch.no_grad()
def input_maps(model: nn.Module, table: np.ndarray, combiner: str) -> dict[str, np.ndarray]:
    """Per operand, [p, width]: what residue x adds to the first layer's input sum.

    Exact for a transformer and for the linear combiners (concat: each operand has its own
    block of columns; sum: both share them). A product or SDR combiner mixes the operands
    before any weight, so there the code table itself is what is analysed."""
    weight = first_linear(model).weight.detach().cpu().double().numpy()  # [width, in]
    codes = table.astype(np.float64)
    d = codes.shape[1]
    if getattr(model, "embed", None) is not None and isinstance(model.embed, nn.Linear):
        shared = codes @ weight.T
        return {"a": shared, "b": shared}
    if combiner == "concat":
        return {"a": codes @ weight[:, :d].T, "b": codes @ weight[:, d:2 * d].T}
    if combiner == "sum":
        shared = codes @ weight[:, :d].T
        return {"a": shared, "b": shared}
    return {"a": codes, "b": codes}


def spectrum(values: np.ndarray) -> np.ndarray:
    """Power at frequencies 0..p//2 along the residue axis (axis 0), summed over columns;
    a real signal's frequencies k and p-k are one entry."""
    coeffs = np.fft.rfft(values, axis=0)
    power = (np.abs(coeffs) ** 2).sum(axis=1)
    power[1:] *= 2  # the mirrored half; p is odd, so there is no Nyquist entry
    if values.shape[0] % 2 == 0:
        power[-1] /= 2
    return power


def key_frequencies(power: np.ndarray, share: float = 0.8, most: int = 12) -> list[int]:
    """The fewest non-constant frequencies that hold `share` of the non-constant power
    (at most `most`), strongest first."""
    varying = power[1:]
    total = varying.sum()
    if total <= 0:
        return []
    order = np.argsort(varying)[::-1]
    keys, held = [], 0.0
    for i in order[:most]:
        keys.append(int(i) + 1)
        held += varying[i]
        if held >= share * total:
            break
    return keys


def held_share(power: np.ndarray, keys: list[int]) -> float:
    """Fraction of the non-constant power the given frequencies hold."""
    total = power[1:].sum()
    return float(power[keys].sum() / total) if total > 0 and keys else 0.0


def restrict(values: np.ndarray, keys: list[int]) -> np.ndarray:
    """`values` [p, d] keeping only the constant and the given frequencies along axis 0."""
    coeffs = np.fft.rfft(values.astype(np.float64), axis=0)
    keep = np.zeros(coeffs.shape[0], dtype=bool)
    keep[[0, *keys]] = True
    coeffs[~keep] = 0
    return np.fft.irfft(coeffs, n=values.shape[0], axis=0).astype(values.dtype)


@torch.no_grad()
def routes(model: nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """What a router brain (brains.router) does on rows x: `chosen` [R, n], the block its
    router ranks first at each step; `probs` [R, n, K]; and, where it may halt, `halt` [R, n],
    the share of each row that halts at each step."""
    model.eval()
    model(x)
    return {name: value.cpu().numpy() for name, value in model.routing.items()}


def route_grid(chosen: np.ndarray, pairs: np.ndarray, p: int) -> np.ndarray:
    """[R, p, p]: the block chosen for (a, b) at each step, -1 where (a, b) is not a pair of
    the task (an unordered task holds each pair once)."""
    grid = np.full((chosen.shape[0], p, p), -1, dtype=np.int64)
    grid[:, pairs[:, 0], pairs[:, 1]] = chosen
    return grid


def usage(chosen: np.ndarray, k: int) -> np.ndarray:
    """[R, K]: the share of rows whose chosen block is each block, at each step."""
    return np.stack([np.bincount(step, minlength=k) / max(1, len(step)) for step in chosen])
