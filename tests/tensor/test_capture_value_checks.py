"""Checks that read values back only to raise (the losses' range checks, clip_grad_norm_'s
check for a NaN or infinite norm) do not stop a step from being captured: the replay runs them
again on every call's data, and the step stays bit-identical to the eager one."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, capture, nn, optim
from tinygrad_edu.errors import ArgumentError, IndexingError, NonFiniteError, NonFiniteValueWarning
from tinygrad_edu.nn import functional as F

from capture_steps import assert_same_state, make_batches


def _classifier_step(loss_name, seed=0):
    tg.manual_seed(seed)
    model = nn.MLP(7, [9], 4)
    opt = optim.Adam(model.parameters(), lr=0.01)

    def train_step(x, target):
        opt.zero_grad()
        out = model(x)
        if loss_name == "cross_entropy":
            loss = F.cross_entropy(out, target)
        else:   # probabilities from a sigmoid, float targets
            loss = F.binary_cross_entropy(out.sigmoid(), target)
        loss.backward()
        opt.step()
        return loss
    return model, opt, train_step


def _classifier_batches(loss_name, n, batch=5):
    rng = np.random.default_rng(2)
    x = [Tensor(rng.standard_normal((batch, 7)).astype(np.float32)) for _ in range(n)]
    if loss_name == "cross_entropy":
        targets = [Tensor(rng.integers(0, 4, batch)) for _ in range(n)]
    else:
        targets = [Tensor((rng.random((batch, 4)) > 0.5).astype(np.float32)) for _ in range(n)]
    return list(zip(x, targets))


@pytest.mark.parametrize("loss_name", ["cross_entropy", "binary_cross_entropy"])
def test_classification_steps_are_captured_and_their_range_checks_run_on_every_replay(
        cpu_backend, loss_name):
    """The losses' range checks (class indices, probabilities) read values back only to
    raise: a replay runs them again on each call's data instead of refusing the step."""
    eager_model, eager_opt, eager_step = _classifier_step(loss_name)
    model, opt, train_step = _classifier_step(loss_name)
    step = capture(train_step)
    data = _classifier_batches(loss_name, 6)
    assert [step(x, t).item() for x, t in data] == [eager_step(x, t).item() for x, t in data]
    assert step.captured
    assert_same_state(eager_model, eager_opt, model, opt)

    x, target = data[0]
    if loss_name == "cross_entropy":
        bad, error, match = Tensor(np.array([0, 1, 4, 2, 3])), IndexingError, "class index 4"
    else:   # a step whose probabilities leave [0, 1]: here the input of the loss goes NaN
        bad = target
        x = Tensor(np.full((5, 7), np.nan, np.float32))
        error, match = ArgumentError, "probabilities in"
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=match):
        step(x, bad)
    for name, value in model.state_dict().items():   # refused before the update
        np.testing.assert_array_equal(value, before[name])


def _clipping_step(norm_type, error_if_nonfinite=False, seed=0):
    tg.manual_seed(seed)
    model = nn.MLP(7, [9, 5], 1)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def train_step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type,
                                         error_if_nonfinite=error_if_nonfinite)
        opt.step()
        return loss, total
    return model, opt, train_step


@pytest.mark.parametrize("norm_type", [2.0, 1.0, "inf"])
def test_a_step_that_clips_its_gradients_is_captured_bit_for_bit(cpu_backend, norm_type):
    """clip_grad_norm_ computes its norm and scale factor on the device: the replay clips as
    the eager step does, with the norm returned as a tensor."""
    eager_model, eager_opt, eager_step = _clipping_step(norm_type)
    model, opt, train_step = _clipping_step(norm_type)
    step = capture(train_step)
    rng = np.random.default_rng(5)
    data = [(Tensor(rng.standard_normal((3, 7)).astype(np.float32) * scale),
             Tensor(rng.standard_normal((3, 1)).astype(np.float32) * scale))
            for scale in (0.1, 5.0, 0.1, 5.0, 8.0, 0.1, 3.0)]
    eager = [tuple(t.item() for t in eager_step(x, y)) for x, y in data]
    captured = [tuple(t.item() for t in step(x, y)) for x, y in data]
    assert step.captured and captured == eager
    totals = [total for _, total in eager]
    assert min(totals) < 1.0 < max(totals)   # both sides of max_norm were replayed
    assert_same_state(eager_model, eager_opt, model, opt)


def test_a_captured_step_checks_its_gradient_norm_on_every_replay(cpu_backend):
    data = make_batches(4)
    nan_x = Tensor(np.full((3, 7), np.nan, np.float32))
    model, opt, train_step = _clipping_step(2.0, error_if_nonfinite=True)
    step = capture(train_step)
    for x, y in data:
        step(x, y)
    assert step.captured
    before = {k: v.copy() for k, v in model.state_dict().items()}
    # Hidden biases get a 0 gradient from ReLU's zero side; the weights and the score's bias
    # get NaN.
    with pytest.raises(NonFiniteError, match=r"clip_grad_norm_: the total norm of order 2.0 of "
                                             r"the gradients is nan: gradient\(s\) "
                                             r"\[0, 2, 4, 5\] of the 6 given"):
        step(nan_x, data[0][1])
    for name, value in model.state_dict().items():   # refused before the update
        np.testing.assert_array_equal(value, before[name])

    model, opt, train_step = _clipping_step(2.0)
    step = capture(train_step)
    for x, y in data:
        step(x, y)
    with pytest.warns(NonFiniteValueWarning, match="clip_grad_norm_: the total norm"), \
            np.errstate(invalid="ignore"):
        loss, total = step(nan_x, data[0][1])
    assert np.isnan(total.item()) and np.isnan(model.state_dict()["layers.0.weight"]).all()
