"""``opt.zero_grad()`` forgets the gradients (``set_to_none=True``, PyTorch 2's default) or, with
``set_to_none=False``, zeroes them in place; ``x.grad.zero_()`` and ``nn.utils.clip_grad_norm_``
are where PyTorch users look for them."""

import numpy as np

from tinygrad_edu import Tensor, nn, optim


def _params_with_grads():
    w = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    b = Tensor([0.0, 1.0], requires_grad=True)
    ((Tensor([[1.0, 2.0]]) @ w + b) ** 2).sum().backward()
    return w, b


def test_zero_grad_sets_gradients_to_none_by_default(cpu_backend):
    w, b = _params_with_grads()
    opt = optim.SGD([w, b], lr=0.1)
    opt.zero_grad()
    assert w.grad is None and b.grad is None


def test_zero_grad_without_set_to_none_keeps_zeroed_gradient_tensors(cpu_backend):
    w, b = _params_with_grads()
    grad_w = w.grad
    opt = optim.Adam([w, b], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad_w
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0])
    ((Tensor([[1.0, 0.0]]) @ w).sum()).backward()   # accumulates into the zeroed tensors
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 1.0], [0.0, 0.0]])


def test_a_gradient_zeroes_itself_in_place(cpu_backend):
    w, _ = _params_with_grads()
    assert w.grad.zero_() is w.grad and not w.grad.numpy().any()
    assert w.grad.fill_(2.5).numpy().tolist() == [[2.5, 2.5], [2.5, 2.5]]


def test_nn_utils_clip_grad_norm_is_the_optimizers(cpu_backend):
    assert nn.utils.clip_grad_norm_ is optim.clip_grad_norm_
    w, b = _params_with_grads()
    total = nn.utils.clip_grad_norm_([w, b], max_norm=1.0)
    norm = np.sqrt((w.grad.numpy() ** 2).sum() + (b.grad.numpy() ** 2).sum())
    assert float(total) > 1.0 and abs(norm - 1.0) < 1e-5
