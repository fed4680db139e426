"""Data movement, in-place updates, the optimizers' kernels and the gradient-clipping helpers
on the CUDA backend against the numpy reference; and the device array box refusing to be
computed with (run by ``test_cuda_simulator.py`` in the simulator, by ``benchmarks/gpu.py`` on
a GPU)."""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from cuda_support import CUDA, FLOAT_IDS, FLOATS, REF, close, data, on_device, run  # noqa: E402

from tinygrad_edu.kernels.cuda.array import DeviceArrayError  # noqa: E402


@pytest.mark.parametrize("dtype", FLOATS + [np.int32, np.bool_],
                         ids=FLOAT_IDS + ["int32", "bool"])
def test_values_go_to_the_device_and_back_unchanged(dtype):
    rng = np.random.default_rng(18)
    for shape in [(), (1,), (7,), (3, 5)]:
        values = (data(rng, shape, np.float64) * 3).astype(dtype)
        close(CUDA.to_numpy(CUDA.asarray(values, dtype)), values, f"round trip {shape}")
        run("full", shape, 1.5, dtype)
        run("copy", values)
    run("asarray", [[1, 2], [3, 4]], np.dtype(dtype))


def test_a_dtype_the_device_does_not_hold_is_refused_clearly():
    with pytest.raises(TypeError, match="the CUDA backend holds bool, int32, int64"):
        CUDA.asarray(np.zeros(3, np.uint8), np.uint8)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_in_place_updates_write_through_views(dtype):
    rng = np.random.default_rng(19)
    for method, args in [("assign_", (data(rng, (4,), dtype),)), ("assign_", (2.5,)),
                         ("add_", (data(rng, (3, 4), dtype),)), ("add_", (data(rng, (4,), dtype),)),
                         ("mul_", (0.25,)), ("setitem_", ((slice(1, 3), 2), -1.0)),
                         ("setitem_", ((0,), data(rng, (4,), dtype)))]:
        target = data(rng, (3, 4), dtype)
        device = on_device(target)
        returned = getattr(CUDA, method)(device, *on_device(args))
        expected = getattr(REF, method)(target, *args)
        assert returned is device, f"{method} returns its first argument"
        close(device, expected, method)
    device = on_device(data(rng, (3, 4), dtype))
    view = CUDA.getitem(device, (slice(None), 1))          # a strided view of a column
    CUDA.add_(view, on_device(np.ones(3, dtype)))
    before = CUDA.to_numpy(device)
    device[0, 0] = 7.0                                     # basic indexing on the box itself
    assert CUDA.to_numpy(device)[0, 0] == 7.0 and CUDA.to_numpy(device)[1, 1] == before[1, 1]


def test_an_overlapping_in_place_update_reads_before_it_writes():
    values = np.arange(6, dtype=np.float32)
    device = on_device(values)
    CUDA.add_(CUDA.getitem(device, (slice(1, None),)), CUDA.getitem(device, (slice(None, -1),)))
    values[1:] += values[:-1].copy()
    close(device, values, "a[1:] += a[:-1]")


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("momentum, dampening, nesterov, weight_decay",
                         [(0.0, 0.0, False, 0.0), (0.9, 0.1, False, 0.01), (0.9, 0.0, True, 0.0)])
def test_sgd_updates_match_the_reference_over_two_steps(dtype, momentum, dampening, nesterov,
                                                        weight_decay):
    rng = np.random.default_rng(20)
    param, ours = data(rng, (3, 5), dtype), None
    device, buf = on_device(param), None
    for _ in range(2):
        grad = data(rng, (3, 5), dtype)
        ours = REF.sgd_update(param, grad, ours, 0.1, momentum, dampening, nesterov,
                              weight_decay)
        buf = CUDA.sgd_update(device, on_device(grad), buf, 0.1, momentum, dampening, nesterov,
                              weight_decay)
        close(device, param, "param", rtol=1e-5)
        if momentum:
            close(buf, ours, "momentum buffer", rtol=1e-5)
        else:
            assert buf is None


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_adam_updates_match_the_reference_over_two_steps(dtype, weight_decay, decoupled):
    rng = np.random.default_rng(21)
    param = data(rng, (7,), dtype)
    m, v = np.zeros_like(param), np.zeros_like(param)
    device, dm, dv = (on_device(a) for a in (param, m, v))
    for step in (1, 2):
        grad = data(rng, (7,), dtype)
        REF.adam_update(param, grad, m, v, step, 1e-2, 0.9, 0.999, 1e-8, weight_decay, decoupled)
        CUDA.adam_update(device, on_device(grad), dm, dv, step, 1e-2, 0.9, 0.999, 1e-8,
                         weight_decay, decoupled)
        for ours, expected, what in [(device, param, "param"), (dm, m, "exp_avg"),
                                     (dv, v, "exp_avg_sq")]:
            close(ours, expected, what, rtol=1e-5)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_the_gradient_clipping_helpers_match_the_reference(dtype):
    rng = np.random.default_rng(22)
    x = data(rng, (5, 3), dtype)
    for p in (2.0, 1, 3.5):
        run("abs_power_sum", x, p, rtol=1e-12)
    run("abs_max", x)
    run("abs_max", np.zeros((0,), dtype))
    run("abs_max", np.array([-3, 2], np.int64))


def test_the_device_array_refuses_every_operation_outside_the_backend():
    x = on_device(np.ones((2, 3), np.float32))
    assert (x.shape, x.dtype, x.ndim, x.size) == ((2, 3), np.float32, 2, 6)
    assert x[0].shape == (3,) and x[:, None].shape == (2, 1, 3)
    for attempt in [lambda: x + 1, lambda: -x, lambda: x == x, lambda: np.asarray(x),
                    lambda: np.sqrt(x), lambda: x.sum(), lambda: bool(x), lambda: list(x),
                    lambda: x[[0, 1]], lambda: float(x[0, 0])]:
        with pytest.raises(DeviceArrayError, match="sim_state.py"):
            attempt()
