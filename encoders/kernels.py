"""numba kernels behind the encoder tables and pair features.

Kernels are pure and deterministic: every random draw is made by the caller with
numpy.random.default_rng(code_seed) and passed in, so each kernel can be checked against
a slow numpy oracle, and a gene means the same code run after run, whatever the thread count.
Parallel kernels write each output row from its own inputs only, so the result does not
depend on how rows are split between threads.

Import this module through the `encoders` package: it settles numba's cache directory
before numba is first imported.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from encoders.gene import COMBINERS


@njit(cache=True)
def _round_ratio(num: int, den: int) -> int:
    """round(num / den) for non-negative ints, exactly as Python's round (ties to even).

    Integer arithmetic, so a tie like 7.5 is a tie on every machine, not 7.4999...
    """
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q % 2 == 1):
        q += 1
    return q


@njit(cache=True)
def run_table(p: int, d: int, w: int, wrap: bool) -> np.ndarray:
    """Each value x lights a run of w ones among d columns.

    wrap=False (scalar): the run starts at round(x*(d-w)/(p-1)), so 0 and p-1 sit at the two
    ends and near values share most of their ones. wrap=True (cyclic): the run starts at
    floor(x*d/p) and wraps mod d, so p-1 is as close to 0 as to p-2.
    """
    out = np.zeros((p, d), np.float32)
    for x in range(p):
        start = x * d // p if wrap else _round_ratio(x * (d - w), p - 1)
        for j in range(w):
            out[x, (start + j) % d] = 1.0
    return out


@njit(cache=True)
def varcycle_table(p: int, periods: np.ndarray, phases: np.ndarray, sharpness: float,
                   sawtooth: bool = False) -> np.ndarray:
    """One column per clock: ((1 + cos(2*pi*(x/period + phase))) / 2) ** sharpness, or with
    `sawtooth` frac(x/period + phase) ** sharpness (where the clock's arm is in its cycle).

    Periods need not divide p, so a clock may wrap unevenly; that is the point: evolution
    picks which periods help for which operation.
    """
    n = periods.shape[0]
    out = np.empty((p, n), np.float32)
    for x in range(p):
        for i in range(n):
            turns = x / periods[i] + phases[i]
            if sawtooth:
                out[x, i] = (turns - np.floor(turns)) ** sharpness
            else:
                out[x, i] = ((1.0 + np.cos(2.0 * np.pi * turns)) * 0.5) ** sharpness
    return out


@njit(cache=True)
def fourier_table(p: int, freqs: np.ndarray) -> np.ndarray:
    """Columns 2j, 2j+1 are cos and sin of 2*pi*k*x/p for k = freqs[j].

    k*x is reduced mod p in integers first, so large k and x lose no precision.
    """
    n = freqs.shape[0]
    out = np.empty((p, 2 * n), np.float32)
    for x in range(p):
        for j in range(n):
            angle = 2.0 * np.pi * ((freqs[j] % p) * x % p) / p
            out[x, 2 * j] = np.cos(angle)
            out[x, 2 * j + 1] = np.sin(angle)
    return out


@njit(cache=True)
def _kth_largest(buf: np.ndarray, k: int) -> float:
    """The k-th largest value of buf, by in-place quickselect (O(d), buf is scrambled).

    Hand-written rather than np.partition so that the pair kernels allocate nothing per row.
    """
    target = buf.shape[0] - k
    lo, hi = 0, buf.shape[0] - 1
    while lo < hi:
        pivot = buf[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:  # between the two halves lie only values equal to the pivot
            break
    return buf[target]


@njit(cache=True)
def _topk_into(values: np.ndarray, k: int, out: np.ndarray, scratch: np.ndarray) -> None:
    """Write ones at the k largest of `values` into `out`, ties to the lower index, else zeros.

    Ties at the k-th largest value are taken left to right, so the answer is fixed by that
    rule and not by the selection's internals.
    """
    d = values.shape[0]
    scratch[:] = values
    threshold = _kth_largest(scratch, k)
    need = k
    for j in range(d):
        if values[j] > threshold:
            need -= 1
    for j in range(d):
        take = values[j] > threshold
        if values[j] == threshold and need > 0:
            take = True
            need -= 1
        out[j] = 1.0 if take else 0.0


@njit(cache=True, parallel=True)
def _topk_rows(x: np.ndarray, k: int) -> np.ndarray:
    out = np.empty(x.shape, np.float32)
    for i in prange(x.shape[0]):
        _topk_into(x[i], k, out[i], np.empty(x.shape[1], x.dtype))
    return out


def topk_rows(x: np.ndarray, k: int) -> np.ndarray:
    """Binary float32 copy of x (2-D, finite) with exactly k ones per row, ties to lower columns.

    k is checked here because a k outside 1..d makes the kernel read past a row, silently.
    """
    x = np.ascontiguousarray(x)
    if x.ndim != 2 or not 1 <= k <= x.shape[1]:
        raise ValueError(f"need a 2-D array and 1 <= k <= d, got shape {x.shape} and k={k}")
    return _topk_rows(x, k)


# Pair kernels: explicit loops, not row expressions, since those allocate a temporary per row
# and at p=1009 there are a million rows.

@njit(cache=True, parallel=True)
def _concat(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = table.shape[1]
    out = np.empty((a.shape[0], 2 * d), np.float32)
    for i in prange(a.shape[0]):
        for j in range(d):
            out[i, j] = table[a[i], j]
            out[i, d + j] = table[b[i], j]
    return out


@njit(cache=True, parallel=True)
def _sum(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty((a.shape[0], table.shape[1]), np.float32)
    for i in prange(a.shape[0]):
        for j in range(table.shape[1]):
            out[i, j] = table[a[i], j] + table[b[i], j]
    return out


@njit(cache=True, parallel=True)
def _product(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty((a.shape[0], table.shape[1]), np.float32)
    for i in prange(a.shape[0]):
        for j in range(table.shape[1]):
            out[i, j] = table[a[i], j] * table[b[i], j]
    return out


_CHUNK = 512  # rows per parallel task in _sum_topk, sharing one pair of scratch rows


@njit(cache=True, parallel=True)
def _sum_topk(table: np.ndarray, a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    n, d = a.shape[0], table.shape[1]
    out = np.empty((n, d), np.float32)
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        total = np.empty(d, np.float32)
        scratch = np.empty(d, np.float32)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            for j in range(d):
                total[j] = table[a[i], j] + table[b[i], j]
            _topk_into(total, k, out[i], scratch)
    return out


def combine_pairs(table: np.ndarray, a: np.ndarray, b: np.ndarray, mode: str, k: int = 0) -> np.ndarray:
    """Features of pairs (a[i], b[i]) from a code table: float32 [n, 2d] for concat, else [n, d].

    sum_sdr keeps the top k of enc[a] + enc[b] as ones (1 <= k <= d). Indices are checked
    here because an out-of-range index inside a kernel reads stray memory, not an error.
    """
    table = np.ascontiguousarray(table, dtype=np.float32)
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
    if table.ndim != 2 or a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"need a 2-D table and equal 1-D index arrays, got table {table.shape}, "
                         f"a {a.shape}, b {b.shape}")
    p, d = table.shape
    for name, idx in (("a", a), ("b", b)):
        if idx.size and (idx.min() < 0 or idx.max() >= p):
            raise ValueError(f"index array {name} leaves the table's rows 0..{p - 1}")
    if mode == "concat":
        return _concat(table, a, b)
    if mode == "sum":
        return _sum(table, a, b)
    if mode == "product":
        return _product(table, a, b)
    if mode == "sum_sdr":
        if not 1 <= k <= d:
            raise ValueError(f"sum_sdr needs 1 <= k <= d={d}, got k={k}")
        return _sum_topk(table, a, b, k)
    raise ValueError(f"unknown combine mode {mode!r} (known: {', '.join(COMBINERS)})")
