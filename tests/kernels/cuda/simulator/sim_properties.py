"""The CUDA backend against the numpy reference on values hypothesis draws (so a failure
shrinks to a small array): random shapes, broadcasting, non-contiguous views, both float
dtypes and the IEEE specials (±0, ±inf, NaN, subnormals, the largest floats).

The simulator runs one Python thread per CUDA thread, so shapes stay tiny and each property
draws a few examples (``HYPOTHESIS_PROFILE=thorough`` draws more). Collected only by
``test_cuda_simulator.py``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba_cuda")

from cuda_support import Strided, run  # noqa: E402
from value_strategies import float_arrays, laid_out  # noqa: E402

from tinygrad_edu import activations as sm  # noqa: E402

FEW = settings(max_examples=max(4, settings().max_examples // 3))
DTYPES = st.sampled_from([np.float32, np.float64])
SIDES = st.integers(1, 9)
UNARY = ["neg", "exp", "abs", "sign", "sqrt", "log", "sin", "floor", "round", "reciprocal"]
BINARY = ["add", "sub", "mul", "div", "pow"]


def _maybe_strided(draw, array):
    return Strided(array) if array.ndim == 2 and draw(st.booleans()) else array


@FEW
@given(data=st.data(), method=st.sampled_from(UNARY), dtype=DTYPES,
       shape=st.tuples(SIDES, SIDES))
def test_unary_ops_match_the_reference_on_drawn_values(data, method, dtype, shape):
    # The simulator evaluates exp with Python's math.exp, which raises OverflowError where a
    # GPU gives inf: the largest finite floats are left out there (inf itself is drawn).
    x = data.draw(float_arrays(dtype, shape, bound=50.0, specials=True,
                               largest=method != "exp"))
    with np.errstate(all="ignore"):
        run(method, _maybe_strided(data.draw, x))


@FEW
@given(data=st.data(), method=st.sampled_from(BINARY), dtype=DTYPES,
       rows=SIDES, cols=SIDES, broadcast=st.sampled_from(["none", "row", "column", "scalar"]))
def test_binary_ops_broadcast_like_numpy_on_drawn_values(data, method, dtype, rows, cols,
                                                         broadcast):
    a = data.draw(float_arrays(dtype, (rows, cols), bound=4.0, specials=True))
    other = {"none": (rows, cols), "row": (1, cols), "column": (rows, 1), "scalar": ()}
    b = data.draw(float_arrays(dtype, other[broadcast], bound=4.0, specials=True))
    with np.errstate(all="ignore"):
        run(method, _maybe_strided(data.draw, a), b)


@FEW
@given(data=st.data(), method=st.sampled_from(["sum", "max", "min"]), dtype=DTYPES,
       shape=st.tuples(SIDES, SIDES, st.integers(1, 4)),
       axes=st.sampled_from([(0,), (1,), (2,), (0, 2), (0, 1, 2)]), keepdims=st.booleans())
def test_reductions_match_the_reference_on_drawn_values(data, method, dtype, shape, axes,
                                                        keepdims):
    x = data.draw(float_arrays(dtype, shape, specials=True, largest=method != "sum"))
    with np.errstate(all="ignore"):
        run(method, x, axes, keepdims, rtol=1e-5 if dtype == np.float32 else None)


@FEW
@given(data=st.data(), dtype=DTYPES, m=SIDES, k=st.integers(1, 20), n=SIDES)
def test_matmul_matches_the_reference_on_drawn_values_and_layouts(data, dtype, m, k, n):
    a = data.draw(laid_out(dtype, (m, k)))
    b = data.draw(laid_out(dtype, (k, n)))
    run("matmul", np.ascontiguousarray(a), Strided(b) if not b.flags.c_contiguous else b,
        rtol=5e-5 if dtype == np.float32 else 1e-11)


@FEW
@given(data=st.data(), code=st.sampled_from(sm.CODES), dtype=DTYPES,
       shape=st.tuples(SIDES, SIDES), slope=st.sampled_from([0.0, 0.01, 0.2]))
def test_activations_forward_and_backward_match_on_specials(data, code, dtype, shape, slope):
    x = data.draw(float_arrays(dtype, shape, bound=30.0, specials=True))
    grad = data.draw(float_arrays(dtype, shape, bound=3.0))
    with np.errstate(all="ignore"):
        y = np.asarray(sm.activate_array(code, x, slope))
        run("activation", code, x, slope, rtol=5e-5 if dtype == np.float32 else 1e-11)
        run("activation_backward", code, x, y.astype(dtype), grad, slope,
            rtol=5e-5 if dtype == np.float32 else 1e-11)
