"""The thread chooser keeps the faster thread count per product shape, backs off on a busy
machine, by default changes BLAS's count only where a probe on random numbers shows the BLAS
gives the same bits on any count (so same-seed runs stay identical), honours a fixed count,
and refuses bad settings."""

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu.errors import ArgumentError  # noqa: E402
from tinygrad_edu.kernels.cpu import threads  # noqa: E402
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


def _run_picked(chooser, key, ns_for, times, kind="blas"):
    """As the kernels do: ``pick``, and ``record`` only the calls it says to time. Returns
    ``(threads, timed)`` per call."""
    used = []
    for _ in range(times):
        count, timed = chooser.pick(kind, key, BIG)
        if timed:
            chooser.record(kind, key, count, ns_for[count])
        used.append((count, timed))
    return used


def test_a_settled_shape_is_timed_once_in_every_sample_of_calls():
    chooser, calls, clock = _chooser()
    used = _run_picked(chooser, "k", {1: 200, 2: 100}, 4 * threads.SAMPLE)
    assert [count for count, _ in used] == [2] * (4 * threads.SAMPLE)
    assert [timed for _, timed in used] == [True, False, False, False] * 4
    assert calls == [2]
    # A trial times every one of its calls, and the shape settles again after it.
    clock.now = threads.FIRST_PERIOD_S
    used = _run_picked(chooser, "k", {1: 200, 2: 100}, threads.TRIAL_CALLS + 1 + threads.SAMPLE)
    assert used[:threads.TRIAL_CALLS + 2] == \
        [(1, True)] * threads.TRIAL_CALLS + [(2, True), (2, False)]
    assert chooser.choices() == {("blas", "k"): 2}


def test_untimed_calls_still_set_the_blas_count_their_shape_chose():
    chooser, calls, clock = _chooser()
    _run_picked(chooser, "one", {1: 200, 2: 100}, 10)
    _run_picked(chooser, "one", {1: 210, 2: 1000}, 40)       # busy: "one" moves to 1 thread
    assert chooser.choices() == {("blas", "one"): 1}
    while not _run_picked(chooser, "one", {1: 210, 2: 1000}, 1)[0][1]:
        pass                                                 # up to its next timed call
    _run_picked(chooser, "two", {1: 200, 2: 100}, 1)         # new shape: all threads
    assert calls[-1] == 2
    count, timed = chooser.pick("blas", "one", BIG)          # untimed, and back on 1
    assert (count, timed) == (1, False) and calls[-1] == 1


def test_sampling_still_notices_a_busy_machine_within_a_few_windows():
    chooser, _, _ = _chooser()
    _run_picked(chooser, "k", {1: 200, 2: 100}, 10 * threads.SAMPLE)
    # Three slow samples of five make the window's median slow (the third is call 2 * SAMPLE);
    # the trial of one thread follows at once.
    used = _run_picked(chooser, "k", {1: 210, 2: 1000},
                       2 * threads.SAMPLE + 1 + threads.TRIAL_CALLS)
    assert chooser.choices() == {("blas", "k"): 1}
    assert used[-threads.TRIAL_CALLS:] == [(1, True)] * threads.TRIAL_CALLS


@pytest.mark.parametrize("change", ["fixed count", "blas varies"])
def test_a_settled_shape_follows_a_new_setting_on_its_next_call(change):
    chooser, blas, _ = _auto(varies=False)
    operands = _operands()
    for _ in range(10 * threads.SAMPLE):
        count, timed = chooser.pick("blas", "k", BIG, operands)
        if timed:
            chooser.record("blas", "k", count, {1: 200, 2: 100}[count])
    _run_auto(chooser, "k", {1: 210, 2: 1000}, 10 + threads.TRIAL_CALLS, operands)   # busy
    for _ in range(threads.SAMPLE):   # settle on one thread, mid-sample
        count, timed = chooser.pick("blas", "k", BIG, operands)
        if timed:
            chooser.record("blas", "k", count, 210)
    assert chooser.choices() == {("blas", "k"): 1}
    if change == "fixed count":
        chooser.limit = 2
    else:
        blas.varies = True
        chooser.pick("blas", "new", BIG, _operands(n=47))   # its probe shows the bits differ
    assert chooser.pick("blas", "k", BIG, operands) == (2, False) and blas.count == 2


class FakeBlas:
    """A BLAS thread pool and product: ``varies`` makes its last bit depend on the count (for
    non-zero results only, as a real kernel's rounding does)."""

    def __init__(self, varies, count=2):
        self.varies, self.count = varies, count
        self.sets, self.probes = [], []

    def set(self, count):
        self.sets.append(count)
        self.count = count

    def get(self):
        return self.count

    def product(self, a, b):
        self.probes.append((a.copy(), b.copy(), a.strides, b.strides, self.count))
        out = a @ b
        if self.varies and self.count > 1:
            return np.where(out != 0, np.nextafter(out, np.inf), out)
        return out


def _auto(varies, count=2):
    blas, clock = FakeBlas(varies, count), FakeClock()
    chooser = threads.Chooser("auto", max_threads=2, setter=blas.set, getter=blas.get,
                              product=blas.product, clock=clock)
    return chooser, blas, clock


def _operands(m=64, k=32, n=48, transposed=False):
    """All-zero operands: the probe must not be fooled by the caller's degenerate data."""
    a = np.zeros((k, m), np.float32).T if transposed else np.zeros((m, k), np.float32)
    return a, np.zeros((k, n), np.float32)


def _run_auto(chooser, key, ns_for, times, operands):
    used = []
    for _ in range(times):
        count = chooser.count("blas", key, BIG, operands)
        if chooser.adapts("blas"):
            chooser.record("blas", key, count, ns_for[count])
        used.append(count)
    return used


def test_auto_probes_a_new_shape_once_on_random_numbers_of_its_layout():
    chooser, blas, _ = _auto(varies=False)
    a, b = _operands(transposed=True)
    _run_auto(chooser, "k", {1: 100, 2: 50}, 5, (a, b))
    assert [p[4] for p in blas.probes] == [1, 2]       # one pair, one thread then all
    for probe_a, probe_b, a_strides, b_strides, _ in blas.probes:
        assert (a_strides, b_strides) == (a.strides, b.strides)      # the same layout
        assert probe_a.dtype == np.float32 and probe_a.shape == a.shape
        assert np.all(probe_a != 0) and np.all(probe_b != 0)          # not the caller's zeros
    np.testing.assert_array_equal(blas.probes[0][0], blas.probes[1][0])
    assert chooser.blas_varies is False and chooser.adapts("blas")
    _run_auto(chooser, "k2", {1: 100, 2: 50}, 3, _operands(m=65))
    assert len(blas.probes) == 4                      # a new shape: probed once more


def test_auto_probe_sets_the_count_back_to_what_it_was():
    chooser, blas, _ = _auto(varies=False, count=1)   # the caller had BLAS on one thread
    assert chooser.count("blas", "k", BIG, _operands()) == 2
    # The probe's pair, back to one thread, then the shape's own start on all threads.
    assert blas.sets == [1, 2, 1, 2]


def test_auto_adapts_blas_where_one_thread_and_all_give_the_same_bits():
    chooser, blas, _ = _auto(varies=False)
    operands = _operands()
    assert _run_auto(chooser, "k", {1: 200, 2: 100}, 10, operands) == [2] * 10
    _run_auto(chooser, "k", {1: 210, 2: 1000}, 10 + threads.TRIAL_CALLS, operands)  # busy
    assert chooser.choices() == {("blas", "k"): 1} and blas.count == 1
    # Small products on a moved count are probed too (OpenBLAS may split them), and then run
    # on that count: the probe sets it back.
    assert chooser.probes_small
    assert chooser.count("blas", "small", threads.MIN_FLOPS - 1, _operands(n=3)) == 1
    assert len(blas.probes) == 4 and blas.sets[-3:] == [1, 2, 1] and blas.count == 1


def test_auto_never_moves_blas_off_its_own_count_where_the_bits_differ():
    chooser, blas, clock = _auto(varies=True)
    operands = _operands()
    used = _run_auto(chooser, "k", {1: 210, 2: 1000}, 30, operands)
    clock.now = 100.0
    used += _run_auto(chooser, "k", {1: 210, 2: 1000}, 30, operands)
    assert used == [2] * 60 and blas.count == 2 and blas.sets == [1, 2, 2]   # the probe only
    assert chooser.blas_varies and not chooser.adapts("blas") and chooser.choices() == {}
    _run_auto(chooser, "other", {1: 210, 2: 1000}, 5, _operands(k=31))
    assert len(blas.probes) == 2      # one differing shape settles it: no more probes


def test_a_shape_that_differs_gives_blas_its_own_count_back_for_every_shape():
    chooser, blas, _ = _auto(varies=False)
    operands = _operands()
    _run_auto(chooser, "k", {1: 200, 2: 100}, 10, operands)
    _run_auto(chooser, "k", {1: 210, 2: 1000}, 10 + threads.TRIAL_CALLS, operands)
    assert blas.count == 1
    blas.varies = True                # say, a layout whose kernel rounds per thread count
    assert chooser.count("blas", "new", BIG, _operands(n=47)) == 2 and blas.count == 2
    assert _run_auto(chooser, "k", {1: 210, 2: 1000}, 10, operands) == [2] * 10
    assert not chooser.probes_small and blas.count == 2


def test_auto_chooses_the_tiled_kernels_threads_by_timing():
    chooser, blas, clock = _auto(varies=True)
    for _ in range(6):   # past the first trial period: one thread tried, and faster
        clock.now += 0.2
        count = chooser.count("numba", "k", BIG)
        chooser.record("numba", "k", count, {1: 100, 2: 200}[count])
    assert chooser.choices() == {("numba", "k"): 1} and blas.sets == []


def test_the_default_keeps_same_seed_training_runs_identical_while_blas_counts_switch(
        monkeypatch):
    """Real BLAS, a chooser trying the other count on nearly every product: two same-seed
    runs give the same weights bit for bit. Where this BLAS's bits depend on the count, the
    probes keep it on its own count instead."""
    import tinygrad_edu as tg
    from tinygrad_edu.backends import get_device
    from tinygrad_edu.kernels.cpu import matmul as mm

    clock = FakeClock()

    def fast_clock():   # every call a second later: a shape is due for a trial at once
        clock.now += 1.0
        return clock.now

    chooser = threads.Chooser("auto", clock=fast_clock)
    used = []

    def count(kind, key, flops, operands=None):
        threads_used = threads.Chooser.count(chooser, kind, key, flops, operands)
        if kind == "blas" and flops >= threads.MIN_FLOPS:
            used.append((chooser.blas_varies, threads_used))
        return threads_used

    monkeypatch.setattr(chooser, "count", count)
    monkeypatch.setattr(mm, "CHOOSER", chooser)
    device = get_device("cpu")
    previous = device._backend
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 128)).astype(np.float32)
    y = rng.standard_normal((256, 1)).astype(np.float32)

    def train():
        tg.manual_seed(0)
        model = tg.nn.MLP(128, [256, 128], 1)
        opt = tg.optim.SGD(model.parameters(), lr=1e-2)
        for _ in range(8):
            opt.zero_grad()
            tg.nn.functional.mse_loss(model(tg.Tensor(x)), tg.Tensor(y)).backward()
            opt.step()
        return [p.numpy().copy() for p in model.parameters()]

    try:
        tg.set_backend("numba")
        first, second = train(), train()
    finally:
        chooser.limit = "auto"        # BLAS back on its own count
        device._backend = previous
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))
    if chooser.max_threads == 1:
        pytest.skip("this BLAS runs on one thread: there is no count to switch")
    if chooser.blas_varies:    # every product since the probe that showed it: the own count
        assert {count for varies, count in used if varies} == {chooser.max_threads}
    else:
        assert {count for _, count in used} == {1, chooser.max_threads}


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
