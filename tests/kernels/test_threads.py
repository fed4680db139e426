"""The thread chooser keeps the faster thread count per product shape, backs off on a busy
machine, leaves BLAS alone unless asked (its rounding depends on its thread count), honours a
fixed count, and refuses bad settings; the kernels report compile time and compile only the
activations a model uses."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu.errors import ArgumentError  # noqa: E402
from tinygrad_edu.kernels.cpu import compile_seconds, threads  # noqa: E402
from tinygrad_edu.kernels.cpu.backend import NumbaBackend  # noqa: E402

BIG = threads.MIN_FLOPS * 4


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _chooser(limit="adaptive"):
    calls = []
    clock = FakeClock()
    chooser = threads.Chooser(limit, max_threads=2, setter=calls.append, clock=clock)
    return chooser, calls, clock


def _run(chooser, key, ns_for, times):
    """``times`` products of shape ``key``, each taking ``ns_for[threads]``."""
    used = []
    for _ in range(times):
        count = chooser.count("blas", key, BIG)
        chooser.record("blas", key, count, ns_for[count])
        used.append(count)
    return used


def test_a_fixed_count_is_set_once_and_used_for_every_product():
    chooser, calls, _ = _chooser(1)
    assert _run(chooser, "k", {1: 100, 2: 50}, 20) == [1] * 20
    assert calls == [1]
    chooser.limit = "auto"   # BLAS gets its own count back
    assert calls == [1, 2]


def test_auto_starts_on_all_threads_and_keeps_them_while_they_are_faster():
    chooser, calls, clock = _chooser()
    assert _run(chooser, "k", {1: 200, 2: 100}, 10) == [2] * 10
    clock.now = threads.FIRST_PERIOD_S
    used = _run(chooser, "k", {1: 200, 2: 100}, 10)
    assert used[:threads.TRIAL_CALLS] == [1] * threads.TRIAL_CALLS and set(used[3:]) == {2}
    assert chooser.choices() == {("blas", "k"): 2}
    assert calls == [2, 1, 2]


def test_auto_moves_to_one_thread_when_the_machine_gets_busy_and_back_when_it_is_quiet():
    chooser, _, clock = _chooser()
    _run(chooser, "k", {1: 200, 2: 100}, 10)
    # Busy: all threads now 10x slower; the slowdown triggers a trial of one thread at once.
    _run(chooser, "k", {1: 210, 2: 1000}, 10 + threads.TRIAL_CALLS)
    assert chooser.choices() == {("blas", "k"): 1}
    # Quiet again: after the period, a trial of all threads (its first call not counted) wins.
    clock.now = 1.0 + threads.FIRST_PERIOD_S
    _run(chooser, "k", {1: 200, 2: 100}, 10)
    assert chooser.choices() == {("blas", "k"): 2}


def test_a_lost_trial_of_all_threads_holds_back_the_trials_of_every_shape():
    chooser, _, clock = _chooser()
    busy = {1: 200, 2: 1000}
    for key in ("a", "b"):
        _run(chooser, key, {1: 200, 2: 100}, 10)
        _run(chooser, key, busy, 10 + threads.TRIAL_CALLS)
    assert set(chooser.choices().values()) == {1}
    clock.now = 10.0
    _run(chooser, "a", busy, 5)       # its trial of 2 threads loses on the first counted call
    assert _run(chooser, "b", busy, 5) == [1] * 5      # "b" is due too, but held back
    assert chooser._hold_until > clock.now


def test_auto_leaves_blas_alone_and_chooses_only_the_tiled_kernels_threads():
    chooser, calls, clock = _chooser("auto")
    assert _run(chooser, "k", {1: 100, 2: 200}, 10) == [2] * 10
    assert calls == [] and chooser.choices() == {}
    for _ in range(6):   # past the first trial period: one thread tried, and faster
        clock.now += 0.2
        count = chooser.count("numba", "k", BIG)
        chooser.record("numba", "k", count, {1: 100, 2: 200}[count])
    assert chooser.choices() == {("numba", "k"): 1} and calls == []


def test_the_tiled_kernel_gives_the_same_bits_on_one_thread_and_on_two():
    from tinygrad_edu.kernels.cpu import matmul as mm

    rng = np.random.default_rng(3)
    for m, k, n in [(127, 300, 65), (256, 128, 256)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((n, k)).astype(np.float32).T
        (a, a_t), (b, b_t) = mm._as_rows(a), mm._as_rows(b)
        serial, parallel = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
        empty = np.empty(0, np.float32)
        mm._gemm_serial(a, a_t, b, b_t, serial, serial, empty, 0, 0.0)
        mm._gemm_parallel(a, a_t, b, b_t, parallel, parallel, empty, 0, 0.0, 2)
        np.testing.assert_array_equal(serial, parallel)


def test_small_products_do_not_change_the_blas_setting():
    chooser, calls, _ = _chooser()
    assert chooser.count("blas", "tiny", threads.MIN_FLOPS - 1) == 2
    assert calls == [] and chooser.choices() == {}


@pytest.mark.parametrize("bad", [0, -1, "two", None, True, 1.5j])
def test_a_bad_thread_setting_is_refused_and_changes_nothing(bad):
    backend = NumbaBackend()
    before = backend.threads
    with pytest.raises(ArgumentError, match="NumbaBackend.threads"):
        backend.threads = bad
    assert backend.threads == before
    with pytest.raises(ValueError):
        threads.parse_threads(bad)


def test_the_backend_setting_reaches_the_products_and_results_stay_the_same():
    backend = NumbaBackend()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((129, 127)).astype(np.float32)
    b = rng.standard_normal((127, 130)).astype(np.float32)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    try:
        for setting in (1, 2, "adaptive", "auto"):
            backend.threads = setting
            assert threads.CHOOSER.limit == setting
            np.testing.assert_allclose(backend.matmul(a, b), expected, rtol=1e-4, atol=1e-4)
    finally:
        backend.threads = "auto"


def test_compile_seconds_counts_a_new_compilation():
    import numba

    before = compile_seconds()

    @numba.njit
    def add_one(x):
        return x + 1

    assert add_one(1) == 2
    assert compile_seconds() > before


_ONE_ACTIVATION = """
import numpy as np, tinygrad_edu as tg
from tinygrad_edu.nn import functional as F
from tinygrad_edu.kernels.cpu import activations
tg.set_backend("numba")
model = tg.nn.MLP(8, [16], 1, activation="relu")
for batch in (1, 5):
    x = tg.Tensor(np.ones((batch, 8), np.float32))
    F.mse_loss(model(x), tg.Tensor(np.zeros((batch, 1), np.float32))).backward()
print(activations.per_code.cache_info().currsize, len(activations.bias_activation.signatures))
"""


def test_a_relu_network_compiles_the_relu_loops_only():
    out = subprocess.run([sys.executable, "-c", _ONE_ACTIVATION], capture_output=True,
                         text=True, check=True)
    # One activation's loops built, and the every-activation dispatcher never compiled.
    assert out.stdout.split() == ["1", "0"], out.stdout + out.stderr
