"""One random generator for the whole library, so ``manual_seed`` makes every draw repeatable."""

import numpy as np

from .errors import ArgumentTypeError

__all__ = ["manual_seed", "get_generator"]

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator behind every random draw (Tensor.randn/rand, initializers).

    >>> manual_seed(0); a = Tensor.randn(3); manual_seed(0); b = Tensor.randn(3)  # a == b
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentTypeError(f"manual_seed: expected a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def get_generator():
    """The library's current ``numpy.random.Generator``."""
    return _generator
