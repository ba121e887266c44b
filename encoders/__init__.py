"""Input encoders ("spectacles"): how each operand is seen, and how two codes meet.

numba's cache directory is settled first, before any module here imports numba, so that
`cache=True` kernels work from a read-only install (see encoders._cache).
"""
import os

from encoders import _cache

_cache.configure(os.path.dirname(os.path.abspath(__file__)))

from encoders.families import (  # noqa: E402  (must follow the cache setup)
    build_table,
    code_dim,
    feature_dim,
    operand_codes,
    pair_features,
)
from encoders.gene import COMBINERS, FAMILIES, EncoderGene  # noqa: E402

__all__ = [
    "COMBINERS",
    "FAMILIES",
    "EncoderGene",
    "build_table",
    "code_dim",
    "feature_dim",
    "operand_codes",
    "pair_features",
]
