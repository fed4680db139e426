"""In-place writes between forward and backward: every write through the library (copy_, an
optimizer step, an init fill, load_state_dict) makes backward refuse the ops that read the old
values, naming the op and the tensor; writes that no backward reads are allowed."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GradError, Tensor, nn, optim
from tinygrad_edu.nn import init


def _leaf(values):
    return Tensor(np.asarray(values, np.float64), requires_grad=True)


def test_the_issues_example_raises_instead_of_giving_gradients_of_the_new_values(cpu_backend):
    x, w = _leaf([1.0, 2.0, 3.0]), _leaf([0.5, -1.0, 2.0])
    y = (x * w).sum()
    x.copy_(100.0)
    with pytest.raises(GradError, match=r"input 0 of 'mul' \(a tensor of shape \(3,\)\) was "
                                        r"changed in place after 'mul' used it"):
        y.backward()
    assert w.grad is None and x.grad is None and y.grad is None


def test_an_optimizer_step_before_backward_is_refused_and_the_right_order_works(cpu_backend):
    tg.manual_seed(0)
    model = nn.MLP(4, [5], 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = Tensor.randn(6, 4), Tensor.randn(6, 1)
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    with pytest.raises(GradError, match="'linear_act'.*opt.step\\(\\) after loss.backward"):
        loss.backward()
    assert all(p.grad is None for p in model.parameters())
    for _ in range(3):   # the usual loop: forward, backward, step
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("write", [
    lambda w: w.copy_(np.zeros(3)),
    lambda w: init.normal_(w),
    lambda w: init.zeros_(w),
    lambda w: optim.Adam([w]).step() if w.grad is not None else None,
], ids=["copy_", "normal_", "zeros_", "adam step"])
def test_every_library_write_is_seen(cpu_backend, write):
    w = nn.Parameter(np.array([0.1, 0.2, 0.3]))
    w.grad = Tensor(np.ones(3))
    y = (w * w).sum()
    write(w)
    with pytest.raises(GradError, match="input 0 of 'mul'"):
        y.backward()


def test_load_state_dict_between_forward_and_backward_is_seen(cpu_backend):
    model = nn.Linear(3, 2)
    out = model(Tensor(np.ones((2, 3), np.float32))).sum()
    model.load_state_dict(nn.Linear(3, 2).state_dict())
    with pytest.raises(GradError, match="'linear_act'"):
        out.backward()


def test_writes_that_no_backward_reads_are_allowed(cpu_backend):
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    y = (a + b).sum()          # add's backward reads neither input
    a.copy_([5.0, 6.0])
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])


def test_a_write_after_backward_or_before_the_forward_is_fine(cpu_backend):
    x = _leaf([1.0, 2.0])
    x.copy_([3.0, 4.0])
    y = (x * x).sum()
    y.backward()
    x.copy_([0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 8.0])


def test_writing_an_op_output_that_its_backward_reads_is_seen(cpu_backend):
    x = _leaf([0.0, 1.0])
    y = x.exp()
    z = y.sum()                # sum's backward reads nothing; exp's reads its output
    y.copy_([0.0, 0.0])
    with pytest.raises(GradError, match="the output of 'exp'"):
        z.backward()


@pytest.mark.parametrize("alias", [
    lambda w: w.detach(), lambda w: w.T, lambda w: w.reshape(6), lambda w: w[0],
], ids=["detach", "transpose", "reshape", "basic index"])
def test_writes_through_a_view_are_seen_by_ops_that_read_the_base(cpu_backend, alias):
    w = _leaf(np.arange(6.0).reshape(2, 3))
    y = (w * w).sum()
    view = alias(w)
    view.detach().copy_(view.detach().numpy() * 0 + 7.0)
    with pytest.raises(GradError, match="'mul'"):
        y.backward()


def test_ops_that_read_a_view_see_writes_to_its_base(cpu_backend):
    w = _leaf(np.arange(6.0).reshape(2, 3))
    x = _leaf(np.ones((4, 3)))
    y = (x @ w.T).sum()        # matmul saved w.T, a view of w
    w.copy_(np.zeros((2, 3)))
    with pytest.raises(GradError, match="input 1 of 'matmul'"):
        y.backward()


def test_an_index_array_copies_so_writing_its_source_is_fine(cpu_backend):
    w = _leaf([1.0, 2.0, 3.0])
    picked = w[[0, 2]]          # advanced indexing: a copy, not a view
    y = (picked * picked).sum()
    w.copy_([9.0, 9.0, 9.0])
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 0.0, 6.0])


def test_the_error_names_where_the_op_was_made_under_detect_anomaly(cpu_backend):
    x = _leaf([1.0, 2.0])
    with tg.detect_anomaly():
        y = (x * x).sum()
    x.copy_([0.0, 0.0])
    with pytest.raises(GradError, match=r"test_inplace_writes.py:\d+: y = \(x \* x\).sum\(\)"):
        y.backward()
