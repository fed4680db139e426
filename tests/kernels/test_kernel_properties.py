"""Every Numba kernel against the numpy reference on values hypothesis draws: random shapes
(odd sizes, past the register tiles), memory layouts (transposed, strided, Fortran), both float
dtypes, and the IEEE specials (±0, ±inf, NaN, subnormals, the largest floats)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("numba")

from tinygrad_edu import activations as sm  # noqa: E402
from tinygrad_edu.backends.reference import NumpyBackend  # noqa: E402
from tinygrad_edu.kernels.cpu.backend import NumbaBackend  # noqa: E402
from tinygrad_edu.kernels.cpu.matmul import ROUTES  # noqa: E402
from tinygrad_edu.kernels.network import DenseLayer  # noqa: E402
from tinygrad_edu.kernels.cpu.mlp import CompiledMLP  # noqa: E402
from value_strategies import laid_out  # noqa: E402

REFERENCE = NumpyBackend()
DTYPES = st.sampled_from([np.float32, np.float64])
CODES = st.sampled_from(sm.CODES)
SLOPES = st.sampled_from([0.0, 0.01, 0.2])
# Float32 results of one formula computed two ways (numpy's float32 passes, the kernels'
# float64 arithmetic) agree to about this.
RTOL = {np.float32: 3e-5, np.float64: 1e-12}


def assert_same(ours, ref, dtype, atol=0.0):
    """Same shape and dtype, NaN exactly where the reference has NaN, the same infinities,
    the finite values close (``atol`` a number or one per element)."""
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    infinite = np.isinf(ref)
    np.testing.assert_array_equal(np.isinf(ours), infinite)
    np.testing.assert_array_equal(ours[infinite], ref[infinite])
    finite = np.isfinite(ref)
    allowed = RTOL[dtype] * np.abs(ref[finite]) + np.broadcast_to(atol, ref.shape)[finite]
    gap = np.abs(ours[finite].astype(np.float64) - ref[finite])
    assert (gap <= allowed).all(), (ours[finite][gap > allowed], ref[finite][gap > allowed])


def _finite_abs(a):
    return np.abs(np.where(np.isfinite(a), a, 0))


def _rounding(dtype, x, power=1, grad=None):
    """Per element: what rounding in ``dtype`` may cost an activation at ``x`` whose terms grow
    like |x| ** power, times the incoming ``grad`` (the reference computes float32 in float32,
    the kernels in float64, so float32 results far from 0 differ by about that much)."""
    scale = 1 + _finite_abs(x) ** power
    if grad is not None:
        scale = scale * (1 + _finite_abs(grad))
    return 16 * np.finfo(dtype).eps * scale


def _scale(a, b):
    """An absolute tolerance for a product's finite entries: rounding of each term."""
    return (8 * np.finfo(a.dtype).eps * a.shape[-1] * _finite_abs(a).max(initial=0)
            * _finite_abs(b).max(initial=0) + 1e-30)


@given(data=st.data(), m=st.integers(1, 13), k=st.integers(1, 20), n=st.integers(1, 70),
       dtype=DTYPES, route=st.sampled_from(ROUTES))
def test_matmul_on_every_route_matches_the_reference(data, m, k, n, dtype, route):
    # No largest floats: a sum of them overflows in an order-dependent way.
    a = data.draw(laid_out(dtype, (m, k), bound=8.0, specials=True, largest=False))
    b = data.draw(laid_out(dtype, (k, n), bound=8.0, specials=True, largest=False))
    with np.errstate(all="ignore"):
        ours = NumbaBackend(route).matmul(a, b)
        ref = REFERENCE.matmul(a, b)
    assert_same(ours, ref, dtype, atol=_scale(a, b))


@given(data=st.data(), code=CODES, slope=SLOPES, dtype=DTYPES,
       shape=st.tuples(st.integers(1, 9), st.integers(1, 40)))
def test_activation_kernels_match_the_reference(data, code, slope, dtype, shape):
    x = data.draw(laid_out(dtype, shape, bound=10.0, specials=True))
    # The largest floats stay out of the gradient's inputs: gelu_tanh's float32 derivative
    # overflows there in the reference (see the registry's KNOWN_DIFFERENCES).
    xb = data.draw(laid_out(dtype, shape, bound=10.0, specials=True, largest=False))
    # Infinite and NaN gradients only for the piecewise-linear activations: a smooth one's
    # float32 derivative far out (gelu_tanh at -6) is exactly 0 in the reference's float32 and
    # tiny in the kernels' float64, and inf times the two differ (NaN against inf).
    piecewise = code in (sm.IDENTITY, sm.RELU, sm.LEAKY_RELU)
    grad = data.draw(laid_out(dtype, shape, bound=3.0, specials=piecewise, largest=False))
    numba = NumbaBackend()
    with np.errstate(all="ignore"):
        y = numba.activation(code, x, slope)
        assert_same(y, REFERENCE.activation(code, x, slope), dtype, atol=_rounding(dtype, x))
        yb = REFERENCE.activation(code, xb, slope)
        assert_same(numba.activation_backward(code, xb, yb, grad, slope),
                    REFERENCE.activation_backward(code, xb, yb, grad, slope), dtype,
                    atol=_rounding(dtype, xb, power=3, grad=grad))
    if code == sm.RELU:
        assert not np.signbit(y[y == 0]).any()


@given(data=st.data(), rows=st.integers(1, 9), nin=st.integers(1, 12), nout=st.integers(1, 70),
       code=CODES, slope=SLOPES, dtype=DTYPES, with_bias=st.booleans(), needs_x=st.booleans(),
       route=st.sampled_from(ROUTES))
def test_the_fused_layer_matches_the_reference_forward_and_backward(
        data, rows, nin, nout, code, slope, dtype, with_bias, needs_x, route):
    x = data.draw(laid_out(dtype, (rows, nin), bound=3.0, specials=True, largest=False))
    w = np.ascontiguousarray(data.draw(laid_out(dtype, (nin, nout), bound=1.0)))
    b = data.draw(laid_out(dtype, (nout,), bound=1.0)) if with_bias else None
    piecewise = code in (sm.IDENTITY, sm.RELU, sm.LEAKY_RELU)   # see the activation test
    grad = data.draw(laid_out(dtype, (rows, nout), bound=2.0, specials=piecewise,
                              largest=False))
    numba = NumbaBackend(route)
    with np.errstate(all="ignore"):
        y, z = numba.linear_act_forward(x, w, b, code, slope)
        y_ref, z_ref = REFERENCE.linear_act_forward(x, w, b, code, slope)
        tol = _scale(x, w) + (1e-6 if dtype == np.float32 else 1e-12)
        assert_same(z, z_ref, dtype, atol=tol)
        assert_same(y, y_ref, dtype, atol=tol)
        ours = numba.linear_act_backward(x, w, z_ref, y_ref, grad, code, slope, with_bias,
                                         needs_x)
        ref = REFERENCE.linear_act_backward(x, w, z_ref, y_ref, grad, code, slope, with_bias,
                                            needs_x)
    for mine, theirs in zip(ours, ref):
        assert (mine is None) == (theirs is None)
        if theirs is not None:
            assert_same(mine, theirs, dtype, atol=rows * nout * 1e-4 + nin * 1e-4)


@given(data=st.data(), sizes=st.lists(st.integers(1, 70), min_size=2, max_size=4),
       codes=st.lists(CODES, min_size=3, max_size=3), rows=st.integers(1, 9), dtype=DTYPES)
def test_the_compiled_mlp_matches_the_layers_run_one_by_one(data, sizes, codes, rows, dtype):
    layers = []
    for nin, nout, code in zip(sizes[:-1], sizes[1:], codes):
        w = np.ascontiguousarray(data.draw(laid_out(dtype, (nin, nout), bound=1.0)))
        layers.append(DenseLayer(w, data.draw(laid_out(dtype, (nout,), bound=1.0)), code, 0.1))

    class Network:
        def describe(self):
            return layers

    x = data.draw(laid_out(dtype, (rows, sizes[0]), bound=3.0, specials=True, largest=False))
    expected = x
    with np.errstate(all="ignore"):
        for layer in layers:
            expected = REFERENCE.linear_act_forward(expected, layer.weight, layer.bias,
                                                    layer.code, layer.slope)[0]
        got = CompiledMLP(Network())(np.ascontiguousarray(x))
    assert_same(got, expected, dtype, atol=1e-3 if dtype == np.float32 else 1e-9)
