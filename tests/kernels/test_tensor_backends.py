"""The Numba CPU backend agrees with the numpy reference on every primitive of the backend
interface, within float32/float64 rounding, and through whole Tensor computations.

Skipped when ``tinygrad_edu.kernels.cpu`` is not importable (Numba missing or not built yet).
"""

import numpy as np
import pytest

from tinygrad_edu import Tensor, linear_act
from tinygrad_edu import activations as sm
from tinygrad_edu.backends.reference import NumpyBackend

numba_cpu = pytest.importorskip("tinygrad_edu.kernels.cpu.backend")

REFERENCE, NUMBA = NumpyBackend(), numba_cpu.NumbaBackend()
DTYPES = [np.float32, np.float64]


def _close(ours, reference, dtype, what, rtol=None):
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape, f"{what}: shape {ours.shape} vs {reference.shape}"
    if reference.dtype.kind == "f":
        assert ours.dtype == reference.dtype, f"{what}: dtype {ours.dtype} vs {reference.dtype}"
    rtol = rtol or (2e-6 if dtype == np.float32 else 1e-12)
    floor = rtol * max(1.0, float(np.abs(reference).max(initial=0)))
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=floor, err_msg=what)


def _data(rng, shape, dtype, kind="any"):
    if kind == "positive":
        return rng.uniform(0.3, 2.0, shape).astype(dtype)
    if kind == "nonzero":
        return (rng.choice([-1, 1], shape) * rng.uniform(0.2, 2.0, shape)).astype(dtype)
    return rng.uniform(-2.0, 2.0, shape).astype(dtype)


# method -> function(rng, dtype) giving the argument tuples to call it with
def _elementwise(kind="any"):
    return lambda rng, dt: [(_data(rng, s, dt, kind),) for s in [(), (7,), (3, 33)]] + [
        (_data(rng, (5, 4), dt, kind).T,)]


def _pairs(kind_b="any"):
    shapes = [((7,), (7,)), ((3, 4), (4,)), ((2, 1, 3), (4, 3)), ((), (2, 2))]
    return lambda rng, dt: [(_data(rng, a, dt), _data(rng, b, dt, kind_b)) for a, b in shapes]


def _transposed(rng, shape, dtype):
    return _data(rng, shape[::-1], dtype).T


MATMUL_SHAPES = [((1, 1), (1, 1)), ((7, 5), (5, 3)), ((33, 7), (7, 33)), ((2, 3, 4), (4, 5)),
                 ((2, 1, 3, 4), (3, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((5,), (5,))]

CASES = {
    "add": _pairs(), "sub": _pairs(), "mul": _pairs(), "div": _pairs("nonzero"),
    "pow": lambda rng, dt: [(_data(rng, (3, 4), dt, "positive"), _data(rng, (4,), dt))],
    "neg": _elementwise(), "exp": _elementwise(), "abs": _elementwise(),
    "sign": _elementwise("nonzero"), "reciprocal": _elementwise("nonzero"),
    "log": _elementwise("positive"), "sqrt": _elementwise("positive"),
    "clip": lambda rng, dt: [(_data(rng, (3, 7), dt), dt(-0.5), dt(0.5)),
                             (_data(rng, (7,), dt), None, dt(0.5)),
                             (_data(rng, (7,), dt), dt(-0.5), None)],
    "where": lambda rng, dt: [(rng.random((3, 4)) < 0.5, _data(rng, (3, 4), dt),
                               _data(rng, (4,), dt)),
                              (rng.random(5) < 0.5, 0, _data(rng, (5,), dt))],
    "compare": lambda rng, dt: [(op, _data(rng, (3, 4), dt), _data(rng, (4,), dt)) for op in
                                ["less", "less_equal", "greater", "greater_equal", "equal",
                                 "not_equal"]],
    "matmul": lambda rng, dt: [(_data(rng, a, dt), _data(rng, b, dt)) for a, b in MATMUL_SHAPES]
    + [(_transposed(rng, (7, 5), dt), _transposed(rng, (5, 3), dt))],
    "sum": lambda rng, dt: [(_data(rng, (3, 4, 5), dt), axis, keep) for axis in
                            [None, (0,), (1, 2), (0, 2)] for keep in (False, True)],
    "max": lambda rng, dt: [(_data(rng, (3, 4, 5), dt), axis, keep) for axis in
                            [None, (0,), (1, 2)] for keep in (False, True)],
    "reshape": lambda rng, dt: [(_data(rng, (3, 4), dt), (2, 6))],
    "transpose": lambda rng, dt: [(_data(rng, (2, 3, 4), dt), (2, 0, 1))],
    "broadcast_to": lambda rng, dt: [(_data(rng, (3, 1), dt), (2, 3, 4))],
    "getitem": lambda rng, dt: [(_data(rng, (4, 5), dt), (slice(1, 3), [0, 0, 4]))],
    "scatter_add": lambda rng, dt: [((4, 5), ([0, 0, 3],), _data(rng, (3, 5), dt), dt)],
    "concatenate": lambda rng, dt: [([_data(rng, (2, 3), dt), _data(rng, (4, 3), dt)], 0)],
    "full": lambda rng, dt: [((2, 3), 1.5, dt)],
    "asarray": lambda rng, dt: [(_data(rng, (2, 3), dt), dt)],
}

CODES = list(sm.ACTIVATION_CODES.items())


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("method", CASES)
def test_primitive_matches_the_numpy_reference(method, dtype):
    rng = np.random.default_rng(0)
    for case, args in enumerate(CASES[method](rng, dtype)):
        _close(getattr(NUMBA, method)(*args), getattr(REFERENCE, method)(*args), dtype,
               f"{method}, case {case}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, code", CODES, ids=[name for name, _ in CODES])
def test_activation_and_its_backward_match_the_reference(name, code, dtype):
    rng = np.random.default_rng(1)
    for shape in [(), (7,), (33, 5)]:
        x, grad = _data(rng, shape, dtype, "nonzero"), _data(rng, shape, dtype)
        y = REFERENCE.activation(code, x, 0.1)
        _close(NUMBA.activation(code, x, 0.1), y, dtype, f"{name} forward {shape}")
        _close(NUMBA.activation_backward(code, x, y, grad, 0.1),
               REFERENCE.activation_backward(code, x, y, grad, 0.1), dtype,
               f"{name} backward {shape}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, code", CODES, ids=[name for name, _ in CODES])
@pytest.mark.parametrize("shapes", [((1, 1), 1), ((7,), 3), ((7, 33), 5), ((33, 7), 1)],
                         ids=["1x1", "vector", "7x33", "33x7"])
def test_fused_layer_matches_the_reference(name, code, dtype, shapes):
    (x_shape, nout), rng = shapes, np.random.default_rng(2)
    x, w = _data(rng, x_shape, dtype), _transposed(rng, (x_shape[-1], nout), dtype)
    b, grad = _data(rng, (nout,), dtype), _data(rng, x_shape[:-1] + (nout,), dtype)
    for bias in (b, None):
        y, z = REFERENCE.linear_act_forward(x, w, bias, code, 0.1)
        ours_y, ours_z = NUMBA.linear_act_forward(x, w, bias, code, 0.1)
        _close(ours_y, y, dtype, f"{name} forward")
        _close(ours_z, z, dtype, f"{name} preactivation")
        expected = REFERENCE.linear_act_backward(x, w, z, y, grad, code, 0.1, bias is not None)
        ours = NUMBA.linear_act_backward(x, w, z, y, grad, code, 0.1, bias is not None)
        for label, a, e in zip(["dx", "dw", "db"], ours, expected):
            if e is None:
                assert a is None, f"{name} {label} should be None without a bias"
            else:
                _close(a, e, dtype, f"{name} {label}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_a_training_computation_gives_the_same_values_and_gradients(dtype):
    from tinygrad_edu.backends import get_device, set_backend

    rng = np.random.default_rng(3)
    arrays = [_data(rng, s, dtype) for s in [(16, 8), (8, 12), (12,), (12, 4), (4,)]]
    labels = rng.integers(0, 4, 16)
    results = {}
    device = get_device("cpu")
    previous = device._backend
    try:
        for backend in ("numpy", "numba"):
            set_backend(backend)
            x, w1, b1, w2, b2 = [Tensor(a, requires_grad=True) for a in arrays]
            h = linear_act(x, w1, b1, "gelu")
            logits = (h @ w2 + b2).leaky_relu(0.1)
            loss = -logits.log_softmax()[Tensor.arange(16), Tensor(labels)].mean()
            loss = loss + (h.sigmoid() * h.tanh()).sum(0).max() * 0.01
            loss.backward()
            results[backend] = [loss.numpy()] + [t.grad.numpy() for t in (x, w1, b1, w2, b2)]
    finally:
        device._backend = previous
    # Rounding differences compound through the graph: allow a few float32 ulps per step.
    rtol = 2e-5 if dtype == np.float32 else 1e-11
    for i, (ours, reference) in enumerate(zip(results["numba"], results["numpy"])):
        _close(ours, reference, dtype, f"result {i}", rtol)
