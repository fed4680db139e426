"""Hyperparameters are checked however they are set, and clip_grad_norm_ follows PyTorch's
error_if_nonfinite design for NaN and infinite gradients."""

import math

import numpy as np
import pytest

from tinygrad_edu import NonFiniteError, NonFiniteValueWarning, Tensor, optim


def _params(*grads):
    out = []
    for g in grads:
        p = Tensor.zeros(len(g), requires_grad=True, dtype=np.float64)
        p.grad = Tensor(np.array(g, np.float64))
        out.append(p)
    return out


def test_assigned_hyperparameters_are_used_and_kept_as_plain_numbers(cpu_backend):
    (p,) = _params([1.0, -1.0])
    opt = optim.SGD([p], lr=0.1)
    opt.lr = np.float32(0.5)
    assert type(opt.lr) is float and opt.lr == 0.5
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.5, 0.5])
    adam = optim.Adam(_params([1.0]), betas=[0.8, 0.9])
    assert adam.betas == (0.8, 0.9) and adam.state_dict()["hyperparameters"]["betas"] == (0.8, 0.9)


def test_a_refused_assignment_keeps_the_old_value():
    opt = optim.Adam(_params([1.0]), lr=0.01)
    with pytest.raises(ValueError):
        opt.lr = -1.0
    assert opt.lr == 0.01


def test_a_state_dict_round_trip_still_restores_everything():
    opt = optim.Adam(_params([1.0, 2.0]), lr=0.01, betas=(0.8, 0.9))
    opt.step()
    other = optim.Adam(_params([0.0, 0.0]), lr=0.5)
    other.load_state_dict(opt.state_dict())
    assert other.lr == 0.01 and other.betas == (0.8, 0.9) and other.state[0]["step"] == 1
    np.testing.assert_array_equal(other.state_dict()["state"][0]["exp_avg"],
                                  opt.state_dict()["state"][0]["exp_avg"])


@pytest.mark.parametrize("grads", [[[1.0, 2.0], [math.inf, 1.0]], [[1.0, 2.0], [math.nan, 1.0]],
                                   [[3.0, -math.inf], [0.5, 0.5]]],
                         ids=["inf", "nan", "-inf"])
def test_non_finite_norms_scale_as_pytorch_does_with_a_warning(cpu_backend, grads):
    torch = pytest.importorskip("torch")
    ours = _params(*grads)
    theirs = [torch.zeros(len(g), dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    with pytest.warns(NonFiniteValueWarning, match="clip_grad_norm_: the total norm of order 2.0 "
                                                  r"of the gradients is (nan|inf): gradient\(s\) "
                                                  r"\[\d\] of the 2 given"), \
            np.errstate(invalid="ignore"):
        total = optim.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert (math.isnan(total) and math.isnan(float(expected))) or total == float(expected)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_error_if_nonfinite_raises_and_changes_no_gradient(cpu_backend):
    ps = _params([1.0, 2.0], [math.nan, 1.0])
    with pytest.raises(NonFiniteError, match=r"gradient\(s\) \[1\] of the 2 given hold NaN or "
                                             "inf, so they cannot be clipped") as info:
        optim.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert isinstance(info.value, RuntimeError)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [1.0, 2.0])


def test_an_infinite_max_norm_clips_nothing_and_inf_norm_type_may_be_a_string(cpu_backend):
    ps = _params([30.0, 40.0])
    assert optim.clip_grad_norm_(ps, math.inf) == pytest.approx(50.0)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [30.0, 40.0])
    assert optim.clip_grad_norm_(ps, 4.0, norm_type="inf") == pytest.approx(40.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [3.0, 4.0], rtol=1e-6)
