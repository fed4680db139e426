"""The Numba backend's one-pass optimizer updates give the numpy reference's numbers bit for
bit: SGD (momentum, dampening, Nesterov, weight decay, the momentum buffer's first step) and
Adam/AdamW, in float32 and float64, at odd sizes, on IEEE specials, on 2-D parameters and on
layouts the loops do not take (which go to the reference)."""

import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu.backends.reference import NumpyBackend  # noqa: E402
from tinygrad_edu.kernels.cpu import updates  # noqa: E402
from tinygrad_edu.kernels.cpu.backend import NumbaBackend  # noqa: E402

REF, NUMBA = NumpyBackend(), NumbaBackend()
DTYPES = [np.float32, np.float64]
SIZES = [1, 7, 33, 127, updates.SMALL_PLAIN_SGD + 33]   # the last: plain SGD compiled too
SGD_SETTINGS = [(0.0, 0.0, False, 0.0), (0.9, 0.1, False, 0.01), (0.9, 0.0, True, 0.0),
                (0.5, 0.0, False, 0.3)]


def _values(rng, shape, dtype, specials=False):
    x = rng.standard_normal(shape).astype(dtype)
    if specials:
        tiny = np.finfo(dtype).tiny
        flat = x.reshape(-1)
        picks = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny / 4, -tiny / 3,
                          np.finfo(dtype).max], dtype)
        flat[:min(flat.size, picks.size)] = picks[:flat.size]
    return x


def _same(a, b):
    """Equal to the bit (NaNs included: their bit patterns are compared too)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _sgd_steps(shape, dtype, settings, specials, grad_layout=None, steps=3):
    rng = np.random.default_rng(7)
    param = _values(rng, shape, dtype, specials)
    ours, buf_ref, buf_ours = param.copy(), None, None
    for _ in range(steps):
        grad = _values(rng, shape, dtype, specials)
        if grad_layout is not None:
            grad = grad_layout(grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # numpy's overflow notes
            buf_ref = REF.sgd_update(param, grad, buf_ref, 0.1, *settings)
        buf_ours = NUMBA.sgd_update(ours, grad, buf_ours, 0.1, *settings)
    _same(ours, param)
    assert (buf_ours is None) == (buf_ref is None)
    if buf_ref is not None:
        _same(buf_ours, buf_ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("settings", SGD_SETTINGS)
def test_sgd_matches_the_reference_bit_for_bit(dtype, size, settings):
    _sgd_steps((size,), dtype, settings, specials=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", SGD_SETTINGS)
def test_sgd_matches_the_reference_on_ieee_specials_and_2d_parameters(dtype, settings):
    _sgd_steps((257, 259), dtype, settings, specials=True)   # plain SGD compiled too


def _adam_steps(shape, dtype, weight_decay, decoupled, specials, grad_layout=None):
    rng = np.random.default_rng(8)
    param = _values(rng, shape, dtype, specials)
    m, v = np.zeros_like(param), np.zeros_like(param)
    ours, om, ov = param.copy(), m.copy(), v.copy()
    for step in (1, 2, 3):
        grad = _values(rng, shape, dtype, specials)
        if grad_layout is not None:
            grad = grad_layout(grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            REF.adam_update(param, grad, m, v, step, 1e-2, 0.9, 0.999, 1e-8, weight_decay,
                            decoupled)
        NUMBA.adam_update(ours, grad, om, ov, step, 1e-2, 0.9, 0.999, 1e-8, weight_decay,
                          decoupled)
    for a, b in [(ours, param), (om, m), (ov, v)]:
        _same(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_adam_and_adamw_match_the_reference_bit_for_bit(dtype, size, weight_decay, decoupled):
    _adam_steps((size,), dtype, weight_decay, decoupled, specials=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, True)])
def test_adam_matches_the_reference_on_ieee_specials_and_2d_parameters(dtype, weight_decay,
                                                                        decoupled):
    _adam_steps((33, 127), dtype, weight_decay, decoupled, specials=True)


def test_adam_divides_by_zero_as_numpy_does():
    # eps = 0 and a zero second moment: 0 / 0 is NaN in numpy, where compiled Python would
    # raise ZeroDivisionError.
    param, grad = np.zeros(40, np.float32), np.zeros(40, np.float32)
    ours = param.copy()
    m, v, om, ov = (np.zeros(40, np.float32) for _ in range(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        REF.adam_update(param, grad, m, v, 1, 1e-2, 0.9, 0.999, 0.0, 0.0, False)
    NUMBA.adam_update(ours, grad, om, ov, 1, 1e-2, 0.9, 0.999, 0.0, 0.0, False)
    assert np.isnan(param).all()
    _same(ours, param)


@pytest.mark.parametrize("layout", ["transposed", "strided", "float64 gradient"])
def test_layouts_the_loops_do_not_take_still_match_the_reference(layout):
    grad_layout = {"transposed": lambda g: np.ascontiguousarray(g.T).T,
                   "strided": lambda g: np.repeat(g, 2, axis=1)[:, ::2],
                   "float64 gradient": lambda g: g.astype(np.float64)}[layout]
    assert not updates.handles(np.zeros((33, 40), np.float32),
                               grad_layout(np.zeros((33, 40), np.float32)))
    _sgd_steps((33, 40), np.float32, (0.9, 0.1, False, 0.01), False, grad_layout)
    _adam_steps((33, 40), np.float32, 0.1, False, False, grad_layout)


def test_the_loops_take_contiguous_arrays_of_one_float_dtype():
    a = np.zeros((3, 4), np.float32)
    assert updates.handles(a, a.copy(), None, a.copy())
    assert not updates.handles(a.astype(np.float16), a.astype(np.float16))
    assert not updates.handles(a, a.reshape(4, 3))
    assert not updates.handles(a.T, a.T.copy())
