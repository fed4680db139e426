"""The Numba backend trains the textbook's ranking MLP exactly as the numpy reference does, and
is selected, by default or on request, without importing anything heavy too early."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu import Tensor, manual_seed, nn, optim  # noqa: E402
from tinygrad_edu.backends import get_device, set_backend  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402


def _python(code, **env):
    """Run ``code`` in a fresh interpreter (outside the repo root, so that only the installed
    package is importable) and return its stdout."""
    environment = {k: v for k, v in os.environ.items() if k != "TINYGRAD_EDU_BACKEND"}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=environment, cwd=os.path.dirname(os.path.abspath(__file__)),
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


SHOW_BACKEND = "import tinygrad_edu as t; t.Tensor([1.0]) + 1; print(t.get_backend().name)"


@pytest.mark.parametrize("requested", ["numpy", "numba"])
def test_the_environment_variable_selects_the_backend(requested):
    assert _python(SHOW_BACKEND, TINYGRAD_EDU_BACKEND=requested) == requested


def test_numba_is_the_default_cpu_backend_when_installed():
    assert _python(SHOW_BACKEND) == "numba"


def test_importing_the_package_and_the_kernels_package_loads_no_compiler():
    code = ("import sys, tinygrad_edu, tinygrad_edu.kernels; "
            "print(sorted(m for m in ('numba', 'llvmlite', 'kernels') if m in sys.modules))")
    assert _python(code) == "[]"


def test_the_kernels_load_only_as_part_of_the_package():
    # A second top-level copy ("kernels") would have its own, separate JIT caches.
    code = ("import sys, tinygrad_edu.kernels.cpu.backend, tinygrad_edu.kernels.cpu.mlp; "
            "print('kernels' in sys.modules)")
    assert _python(code) == "False"


def _train_ranking_mlp(backend, dtype, steps=5, batch=32, route="auto"):
    device = get_device("cpu")
    previous = device._backend
    chosen = set_backend(backend)
    if backend == "numba":
        previous_route, chosen.matmul_route = chosen.matmul_route, route
    try:
        manual_seed(0)
        model = nn.MLP(128, [256, 128, 64], 1)
        if dtype == np.float64:
            model = model.double()
        # One example gives steep gradients: a smaller step keeps it descending.
        opt = optim.SGD(model.parameters(), lr=0.01 if batch > 1 else 0.001, momentum=0.9)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, 128)).astype(dtype)
        y = np.tanh(x[:, :1] * x[:, 1:2]).astype(dtype)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(model(Tensor(x)), Tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return np.array(losses), [p.numpy().copy() for p in model.parameters()]
    finally:
        device._backend = previous
        if backend == "numba":
            chosen.matmul_route = previous_route


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)],
                         ids=["float32", "float64"])
@pytest.mark.parametrize("route, batch", [("auto", 32), ("numba", 32), ("auto", 1)])
def test_training_the_ranking_mlp_gives_the_same_losses_on_both_backends(dtype, rtol, route,
                                                                         batch):
    numpy_losses, numpy_params = _train_ranking_mlp("numpy", dtype, batch=batch)
    numba_losses, numba_params = _train_ranking_mlp("numba", dtype, batch=batch, route=route)
    assert numpy_losses[-1] < numpy_losses[0]          # it is training, not standing still
    # A loss near its minimum is a difference of close numbers: judge it on the start's scale.
    np.testing.assert_allclose(numba_losses, numpy_losses, rtol=rtol, atol=rtol * numpy_losses[0])
    for ours, reference in zip(numba_params, numpy_params):
        np.testing.assert_allclose(ours, reference, rtol=rtol, atol=rtol)


def test_an_unknown_matmul_route_is_a_clear_error():
    from tinygrad_edu.kernels.cpu.backend import NumbaBackend

    with pytest.raises(ValueError, match="matmul_route must be one of 'auto', 'numba', 'blas'"):
        NumbaBackend().matmul_route = "gpu"


def test_leaf_gradients_never_share_memory(cpu_backend):
    # Leaf .grad arrays are changed in place by optimizers: each must be private, whether the
    # engine copied it or knew the backward had just allocated it (Function.fresh_grads).
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.standard_normal(2).astype(np.float32), requires_grad=True)
    v = Tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    from tinygrad_edu import linear_act
    h = linear_act(x, w, b, "tanh") + (x @ w) + (x @ v).reshape(3, 1) * b
    (h * h).sum().backward()
    leaves = [x, w, b, v]
    intermediates = [h]
    arrays = [t.grad.numpy() for t in leaves + intermediates]
    for i, a in enumerate(arrays):
        for other in arrays[i + 1:]:
            assert not np.shares_memory(a, other)
    before = [a.copy() for a in arrays]
    for a in arrays[:len(leaves)]:
        a += 1.0
    for a, old in zip(arrays[len(leaves):], before[len(leaves):]):
        np.testing.assert_array_equal(a, old)
