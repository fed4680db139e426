"""The kernels report their compile time and compile only the activations a model uses."""

import subprocess
import sys

import pytest

pytest.importorskip("numba")

from tinygrad_edu.kernels.cpu import compile_seconds  # noqa: E402


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
