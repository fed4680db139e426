"""One CompiledMLP called from several threads at once gives every caller its own answer (the
kernels release the GIL, so calls really do overlap)."""

import threading

import numpy as np
import pytest

pytest.importorskip("numba")

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn  # noqa: E402


def test_concurrent_calls_return_the_same_scores_as_one_thread():
    tg.manual_seed(0)
    fast = nn.MLP(64, [256, 256], 1).compile()
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((64, 64)).astype(np.float32)
    expected = fast(xs)
    wrong, start = [], threading.Barrier(4)

    def caller(seed):
        picks = np.random.default_rng(seed)
        mine = np.empty(1, np.float32)
        start.wait()
        for _ in range(150):
            rows = picks.integers(0, len(xs), picks.integers(1, 33))
            if len(rows) > 1:
                got = fast(xs[rows])
            else:   # the one-example path, half the time into a buffer of this thread's
                got = (fast(xs[rows[0]]) if picks.integers(2) else fast(xs[rows[0]], out=mine))
                got = got[None].copy()
            if not np.allclose(got, expected[rows], rtol=1e-5, atol=1e-6):
                wrong.append(rows)

    threads = [threading.Thread(target=caller, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong, f"{len(wrong)} of 600 calls gave another call's scores"
