"""The fused layer and the activation kernels agree with a float64 reference, and the fused
layer's backward passes a float64 gradient check on the Numba backend."""

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu import Tensor, gradcheck, linear_act, activations as sm  # noqa: E402
from tinygrad_edu.backends import get_device, set_backend  # noqa: E402
from tinygrad_edu.kernels.cpu import activations, fused  # noqa: E402
from tinygrad_edu.backends.reference import NumpyBackend  # noqa: E402

REFERENCE = NumpyBackend()
DTYPES = [np.float32, np.float64]
CODES = list(sm.ACTIVATION_CODES.items())
SLOPE = 0.1


def _rel_error(ours, expected):
    ours, expected = np.asarray(ours, np.float64), np.asarray(expected, np.float64)
    return np.abs(ours - expected).max(initial=0) / max(1.0, np.abs(expected).max(initial=0))


def _limit(dtype):
    return 1e-6 if dtype == np.float32 else 1e-13


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, code", CODES, ids=[name for name, _ in CODES])
def test_activation_kernels_match_the_float64_reference(name, code, dtype):
    rng = np.random.default_rng(code)
    for shape in [(), (1,), (7,), (33, 127), (5, 4, 3)]:
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        x64 = x.astype(np.float64)
        y64 = REFERENCE.activation(code, x64, SLOPE)
        y = activations.activation_forward(code, x, SLOPE)
        assert y.dtype == dtype and y.shape == x.shape
        assert _rel_error(y, y64) < _limit(dtype), f"{name} forward {shape}"
        dx = activations.activation_backward(code, x, y, grad, SLOPE)
        dx64 = REFERENCE.activation_backward(code, x64, y64, grad.astype(np.float64), SLOPE)
        assert _rel_error(dx, dx64) < _limit(dtype), f"{name} backward {shape}"


def test_activation_kernels_accept_non_contiguous_input():
    x = np.random.default_rng(0).standard_normal((6, 8)).astype(np.float32)[:, ::2].T
    np.testing.assert_array_equal(activations.activation_forward(sm.RELU, x, 0.0),
                                  np.maximum(x, 0))


def _layer_data(rng, m, k, n, dtype, vector=False):
    x = rng.standard_normal((k,) if vector else (m, k)).astype(dtype)
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal((n,) if vector else (m, n)).astype(dtype)
    return x, w, b, grad


# (m, k, n): one row (skinny loops), small (serial tiles), large (parallel tiles), deep (k > KC),
# a batch large enough for a wide layer's transposed weight gradient
LAYER_SHAPES = [(1, 33, 127), (7, 33, 70), (255, 128, 256), (9, 300, 65),
                (fused.TRANSPOSED_DW_MIN_ROWS + 1, 33, 70)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, code", CODES, ids=[name for name, _ in CODES])
@pytest.mark.parametrize("m, k, n", LAYER_SHAPES)
@pytest.mark.parametrize("route", ["auto", "numba", "blas"])
def test_fused_layer_forward_and_backward_match_the_float64_reference(name, code, dtype, m, k,
                                                                      n, route):
    rng = np.random.default_rng(m + k + n + code)
    x, w, b, grad = _layer_data(rng, m, k, n, dtype)
    for bias in (b, None):
        y, z = fused.linear_act_forward(x, w, bias, code, SLOPE, route)
        x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), grad.astype(np.float64)
        b64 = None if bias is None else bias.astype(np.float64)
        y64, z64 = REFERENCE.linear_act_forward(x64, w64, b64, code, SLOPE)
        assert y.dtype == z.dtype == dtype
        assert _rel_error(z, z64) < 1e-5 and _rel_error(y, y64) < 1e-5, name
        grads = fused.linear_act_backward(x, w, z, y, grad, code, SLOPE, bias is not None,
                                          route=route)
        # The reference backward from our own z and y, so only the backward's error counts.
        expected = REFERENCE.linear_act_backward(x64, w64, z.astype(np.float64),
                                                 y.astype(np.float64), g64, code, SLOPE,
                                                 bias is not None)
        for label, ours, ref in zip(("dx", "dw", "db"), grads, expected):
            if ref is None:
                assert ours is None, f"{label} must be None without a bias"
            else:
                assert ours.dtype == dtype and ours.shape == ref.shape
                assert _rel_error(ours, ref) < 1e-5, f"{name} {label}"


@pytest.mark.parametrize("layout", ["strided rows", "transposed"])
def test_a_wide_layers_transposed_weight_gradient_reads_any_input_layout(layout):
    """From TRANSPOSED_DW_MIN_ROWS rows a layer wider than its input computes dw as
    (dz.T @ x).T: the same values (to rounding) for an input that is not C-contiguous."""
    rng = np.random.default_rng(9)
    rows, nin, nout = fused.TRANSPOSED_DW_MIN_ROWS + 7, 7, 33
    base = rng.standard_normal((2 * rows, nin) if layout == "strided rows" else (nin, rows))
    base = base.astype(np.float32)
    x = base[::2] if layout == "strided rows" else base.T
    assert not x.flags.c_contiguous
    w = rng.standard_normal((nin, nout)).astype(np.float32)
    z = rng.standard_normal((rows, nout)).astype(np.float32)
    y = np.maximum(z, 0)
    grad = rng.standard_normal((rows, nout)).astype(np.float32)
    dx, dw, db = fused.linear_act_backward(x, w, z, y, grad, sm.RELU, 0.0, True)
    dz = grad.astype(np.float64) * (z > 0)
    assert dw.flags.c_contiguous and dw.shape == (nin, nout)
    assert _rel_error(dw, x.astype(np.float64).T @ dz) < 1e-5
    assert _rel_error(dx, dz @ w.T.astype(np.float64)) < 1e-5
    assert _rel_error(db, dz.sum(axis=0)) < 1e-5


def test_fused_layer_takes_a_single_example_and_can_skip_dx():
    rng = np.random.default_rng(4)
    x, w, b, grad = _layer_data(rng, 1, 33, 20, np.float32, vector=True)
    y, z = fused.linear_act_forward(x, w, b, sm.TANH, 0.0)
    assert y.shape == z.shape == (20,)
    np.testing.assert_allclose(y, np.tanh(x.astype(np.float64) @ w + b), rtol=1e-5, atol=1e-6)
    dx, dw, db = fused.linear_act_backward(x, w, z, y, grad, sm.TANH, 0.0, True, needs_x=False)
    assert dx is None
    dz = grad * (1 - y.astype(np.float64) ** 2)
    np.testing.assert_allclose(dw, np.outer(x, dz), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, dz, rtol=1e-5, atol=1e-6)


@pytest.fixture
def numba_backend():
    device = get_device("cpu")
    previous = device._backend
    set_backend("numba")
    yield
    device._backend = previous


@pytest.mark.parametrize("name", [n for n in sm.ACTIVATION_CODES if n != "identity"] + [None])
@pytest.mark.parametrize("batch", [1, 5])
def test_fused_layer_passes_a_float64_gradcheck_on_the_numba_backend(numba_backend, name,
                                                                     batch):
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((batch, 4)), dtype=np.float64, requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3)), dtype=np.float64, requires_grad=True)
    b = Tensor(rng.standard_normal(3), dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: linear_act(x, w, b, name, 0.1), [x, w, b])
