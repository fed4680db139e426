"""Hypothesis strategies and input makers shared by the gradient-check tests.

Inputs are kept away from the points where an op is not differentiable (relu at 0, abs at 0,
clip bounds, max ties) by construction, so central differences are always valid.
"""

import numpy as np
from hypothesis import strategies as st

from tinygrad_edu import Tensor


@st.composite
def broadcastable_shapes(draw, max_dims=3, max_side=3):
    """Two shapes that broadcast together: 0-d, missing leading dims and size-1 dims included.

    Both are cut from one full shape: each keeps a random number of its trailing dims and
    replaces some of them with 1.
    """
    ndim = draw(st.integers(0, max_dims))
    full = draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim))

    def derive():
        kept = draw(st.integers(0, ndim))
        return tuple(n if draw(st.booleans()) else 1 for n in full[ndim - kept:])

    return derive(), derive()


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
seeds = st.integers(0, 2 ** 32 - 1)


def make_array(rng, shape, kind="any"):
    """float64 values of ``shape`` in a range that suits the op being checked.

    any: [-2, 2]; positive: [0.3, 2]; nonzero: |x| in [0.2, 2] (relu, abs, division);
    off_half: |x| not within 0.1 of 0.5 (clip at +-0.5); distinct: all values at least 0.1
    apart (max/min without ties).
    """
    if kind == "any":
        return rng.uniform(-2.0, 2.0, shape)
    if kind == "positive":
        return rng.uniform(0.3, 2.0, shape)
    if kind == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)
    if kind == "off_half":
        magnitude = np.where(rng.random(shape) < 0.5, rng.uniform(0.0, 0.4, shape),
                             rng.uniform(0.6, 2.0, shape))
        return rng.choice([-1.0, 1.0], shape) * magnitude
    if kind == "distinct":
        size = int(np.prod(shape))
        values = rng.permutation(size) * 0.2 - 0.1 * size + rng.uniform(0, 0.1, size)
        return values.reshape(shape)
    raise ValueError(f"unknown input kind {kind!r}")


def leaf(array):
    """A float64 leaf tensor requiring grad."""
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)
