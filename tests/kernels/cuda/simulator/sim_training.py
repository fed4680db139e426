"""Whole training steps on ``device="cuda"``: the ranking MLP's shape (ReLU layers, MSE, Adam)
and a classifier (cross-entropy: max, gather and their adjoints) give the CPU's results, and a
training step with its data on the GPU copies nothing between host and device.

Run by ``test_cuda_simulator.py`` in the simulator (tiny sizes) and by ``benchmarks/gpu.py`` on
a real GPU.
"""

import traceback

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from tinygrad_edu import Tensor, manual_seed, nn, optim  # noqa: E402
from tinygrad_edu.backends import get_backend  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402

# The ranking network's shape, scaled down: 12 -> 16 -> 8 -> 4 -> 1, ReLU.
SHAPE = (12, [16, 8, 4], 1)


def _ranking_data(batch=6):
    rng = np.random.default_rng(23)
    x = rng.standard_normal((batch, SHAPE[0])).astype(np.float32)
    return x, np.sin(x[:, :1]) + x[:, 1:2] ** 2


def _train(device, steps=2):
    manual_seed(0)
    model = nn.MLP(*SHAPE).to(device)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = (Tensor(a, device=device) for a in _ranking_data())
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.numpy() for p in model.parameters()]


def test_a_ranking_mlp_trains_on_cuda_as_on_the_cpu():
    (cpu_losses, cpu_params), (gpu_losses, gpu_params) = _train("cpu"), _train("cuda")
    rtol = 1e-4   # float32 rounding, compounded over two steps
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=rtol)
    for ours, expected in zip(gpu_params, cpu_params):
        assert ours.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol)


def test_a_classifier_with_cross_entropy_trains_on_cuda_as_on_the_cpu():
    rng = np.random.default_rng(24)
    x, labels = rng.standard_normal((9, 6)).astype(np.float32), rng.integers(0, 3, 9)
    results = {}
    for device in ("cpu", "cuda"):
        manual_seed(1)
        model = nn.MLP(6, [5], 3, activation="tanh").to(device)
        opt = optim.AdamW(model.parameters(), lr=1e-2)
        loss = F.cross_entropy(model(Tensor(x, device=device)), Tensor(labels, device=device))
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        results[device] = [loss.item()] + [p.numpy() for p in model.parameters()]
    for ours, expected in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6)


class _Calls:
    """Records the backend's host-facing calls: the size of what each ``asarray`` received and
    the line (outside tinygrad_edu's kernels) that asked for each ``to_numpy``."""

    def __init__(self, backend, monkeypatch):
        self.asarray_sizes, self.to_numpy_callers = [], []
        asarray, to_numpy = backend.asarray, backend.to_numpy

        def counted_asarray(data, dtype):
            self.asarray_sizes.append(np.size(data))
            return asarray(data, dtype)

        def counted_to_numpy(x):
            caller = traceback.extract_stack(limit=2)[0]
            self.to_numpy_callers.append(f"{caller.filename}:{caller.lineno} in {caller.name}")
            return to_numpy(x)

        monkeypatch.setattr(backend, "asarray", counted_asarray)
        monkeypatch.setattr(backend, "to_numpy", counted_to_numpy)


def test_a_training_step_with_its_data_on_the_gpu_copies_nothing_to_or_from_the_host(
        monkeypatch):
    manual_seed(0)
    model = nn.MLP(*SHAPE).to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = (Tensor(a, device="cuda") for a in _ranking_data())

    def step():
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step()   # the first step creates Adam's state
    backend = get_backend("cuda")
    calls = _Calls(backend, monkeypatch)
    backend.transfers.reset()
    loss = step()
    copies = backend.transfers.snapshot()
    print(f"one training step: {copies}, to_numpy calls {calls.to_numpy_callers}, asarray "
          f"calls {len(calls.asarray_sizes)} (sizes {calls.asarray_sizes})")
    assert calls.to_numpy_callers == [], "the step read numbers back to the host"
    assert copies["uploads"] == copies["downloads"] == 0
    # Python numbers in the step (the loss's 2 and 1/n) become 0-d device arrays written by a
    # kernel whose argument is the number: no copy.
    assert all(size == 1 for size in calls.asarray_sizes)
    loss.item()
    assert backend.transfers.downloads == 1   # asking for the number is the one copy


def test_tensors_move_to_cuda_and_back_and_say_where_they_are():
    t = Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    on_gpu = t.cuda()
    assert on_gpu.device == "cuda" and "device='cuda'" in repr(on_gpu)
    (on_gpu.relu() * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[2.0, 0.0, 2.0]])
    assert t.grad.device == "cpu"
    assert on_gpu.to("cpu").device == "cpu" and on_gpu.numpy().tolist() == [[1.0, -2.0, 3.0]]


def test_clip_grad_norm_on_cuda_matches_the_cpu_for_the_2_and_inf_norms():
    rng = np.random.default_rng(25)
    grads = [rng.standard_normal((4, 3)).astype(np.float32) * 2, rng.standard_normal(3)
             .astype(np.float32)]
    for norm_type in (2.0, "inf"):
        results = {}
        for device in ("cpu", "cuda"):
            params = [nn.Parameter(Tensor(np.zeros_like(g), device=device)) for g in grads]
            for p, g in zip(params, grads):
                p.grad = Tensor(g, device=device)
            total = optim.clip_grad_norm_(params, 1.0, norm_type)
            assert total.device == device and total.dtype == np.float32
            results[device] = [total.item()] + [p.grad.numpy() for p in params]
        for ours, expected in zip(results["cuda"], results["cpu"]):
            np.testing.assert_allclose(ours, expected, rtol=1e-6)
