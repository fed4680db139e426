"""Tensors and modules move between devices as a PyTorch user expects.

This machine has one real device, so a second one ("fake") is registered for these tests with
the strict backend: its arrays refuse numpy, as a GPU's would, so a move that skipped the
backend, or an op that mixed the two devices, fails loudly here.
"""

import numpy as np
import pytest

from tinygrad_edu import DeviceError, Tensor, manual_seed, nn, optim
from tinygrad_edu.backends import get_device, register_backend, registry
from tinygrad_edu.backends.strict import StrictArray
from tinygrad_edu.nn import functional as F


@pytest.fixture(autouse=True)
def fake_device(monkeypatch):
    """Device "fake" (strict arrays) exists for each test of this file only."""
    for table in ("_REGISTRY", "_DEFAULTS", "_devices"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    register_backend("fake_strict", "fake", "tinygrad_edu.backends.strict:StrictBackend",
                     default=True)


def test_to_moves_values_to_the_other_device_and_back():
    t = Tensor([[1.0, -2.0], [3.0, 4.5]])
    moved = t.to("fake")
    assert moved.device == "fake" and isinstance(moved.data, StrictArray)
    assert moved.shape == (2, 2) and moved.dtype == np.float32
    np.testing.assert_array_equal(moved.cpu().numpy(), t.numpy())
    assert moved.to("fake") is moved and t.cpu() is t


def test_to_takes_a_dtype_a_device_or_both_as_in_pytorch():
    t = Tensor([1.0, 2.0])
    assert t.to(np.float64).dtype == np.float64 and t.to(np.float64).device == "cpu"
    both = t.to("fake", np.float64)
    assert (both.device, both.dtype) == ("fake", np.float64)
    assert t.to(device=get_device("fake"), dtype="float64").device == "fake"


def test_gradients_flow_back_through_a_move():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
    y = (x.to("fake") * 2.0).sum()
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_an_op_on_two_devices_names_both_and_the_fix():
    with pytest.raises(DeviceError, match=r"add: inputs are on different devices, 'cpu' and "
                                          r"'fake'.*\.to\('cpu'\)"):
        Tensor([1.0]) + Tensor([1.0]).to("fake")


def test_numbers_and_numpy_arrays_land_on_the_tensors_device():
    t = Tensor([1.0, 2.0]).to("fake")
    for out in (t + 1.0, t * np.array([2.0, 3.0], np.float32), 3.0 - t, t[np.array([1, 0])]):
        assert out.device == "fake" and isinstance(out.data, StrictArray)
    np.testing.assert_array_equal((t * np.array([2.0, 3.0], np.float32)).numpy(), [2.0, 6.0])


def test_creation_functions_take_device():
    for t in (Tensor.zeros(2, device="fake"), Tensor.ones(2, device="fake"),
              Tensor.full((2,), 3.0, device="fake"), Tensor.randn(2, device="fake"),
              Tensor.rand(2, device="fake"), Tensor.arange(3, device="fake"),
              Tensor.eye(2, device="fake"), Tensor.zeros_like(Tensor([1.0]), device="fake"),
              Tensor.ones_like(Tensor([1.0]).to("fake"))):
        assert t.device == "fake"


def _train(model, x, y, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("make_opt", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                                      lambda p: optim.Adam(p, lr=0.01)])
def test_module_to_moves_parameters_and_the_optimizer_follows(make_opt):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    manual_seed(1)
    here = nn.MLP(3, [4], 1)
    manual_seed(1)
    moved = nn.MLP(3, [4], 1)
    opt_here, opt_moved = make_opt(here.parameters()), make_opt(moved.parameters())
    _train(here, Tensor(x), Tensor(y), opt_here, 2)
    _train(moved, Tensor(x), Tensor(y), opt_moved, 2)   # state built on the CPU
    assert moved.to("fake") is moved
    assert all(p.device == "fake" and p.grad.device == "fake" for p in moved.parameters())
    _train(here, Tensor(x), Tensor(y), opt_here, 3)
    _train(moved, Tensor(x, device="fake"), Tensor(y, device="fake"), opt_moved, 3)
    for a, b in zip(here.parameters(), moved.parameters()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-7)
    assert opt_moved.state_dict()["state"][0]   # readable after the move, as host arrays


def test_module_to_accepts_a_dtype_too():
    model = nn.Linear(2, 3).to(np.float64)
    assert model.weight.dtype == np.float64 and model.weight.device == "cpu"


def test_a_model_on_another_device_takes_numpy_input():
    model = nn.MLP(2, [3], 1).to("fake")
    out = model(np.ones((4, 2), np.float32))
    assert out.device == "fake" and out.shape == (4, 1)


def test_asking_for_cuda_here_says_what_is_missing():
    with pytest.raises(DeviceError, match="cuda: unavailable"):
        Tensor([1.0]).cuda()
    with pytest.raises(DeviceError, match="cuda: unavailable"):
        nn.Linear(2, 2).to("cuda")


def test_clip_grad_norm_stays_on_the_gradients_device_and_refuses_two_devices():
    model = nn.Linear(3, 2).to("fake")
    model(Tensor([[1.0, 2.0, 3.0]]).to("fake")).sum().backward()
    norm = np.sqrt(sum((p.grad.cpu().numpy().astype(np.float64) ** 2).sum()
                       for p in model.parameters()))
    total = optim.clip_grad_norm_(model.parameters(), 1.0)
    assert total.device == "fake" and total.shape == () and total.dtype == np.float32
    assert total.cpu().item() == pytest.approx(norm, rel=1e-6)
    clipped = np.sqrt(sum((p.grad.cpu().numpy().astype(np.float64) ** 2).sum()
                          for p in model.parameters()))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    other = nn.Parameter(Tensor([1.0]))
    other.grad = Tensor([2.0])
    before = [p.grad.cpu().numpy().copy() for p in model.parameters()]
    with pytest.raises(DeviceError, match=r"clip_grad_norm_: the gradients are on the devices "
                                          r"'fake' and 'cpu'"):
        optim.clip_grad_norm_([*model.parameters(), other], 1.0)
    for p, g in zip(model.parameters(), before):   # nothing was scaled
        np.testing.assert_array_equal(p.grad.cpu().numpy(), g)
