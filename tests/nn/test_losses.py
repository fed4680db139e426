"""Losses: hand-computed values, PyTorch's values and gradients, gradchecks, errors."""

import math

import numpy as np
import pytest

from tinygrad_edu import Tensor, gradcheck, nn
from tinygrad_edu.errors import DTypeError, IndexingError, ShapeError

F = nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _t(values, grad=False):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


# ---- hand-computed values ----
def test_mse_and_l1_on_a_small_example():
    pred, target = _t([1.0, 2.0]), [3.0, 5.0]
    assert F.mse_loss(pred, target).item() == 6.5
    assert F.mse_loss(pred, target, reduction="sum").item() == 13.0
    assert F.l1_loss(pred, target).item() == 2.5
    np.testing.assert_array_equal(F.l1_loss(pred, target, reduction="none").numpy(), [2.0, 3.0])


def test_binary_cross_entropy_on_a_small_example():
    loss = F.binary_cross_entropy(_t([0.5, 0.9]), [1.0, 0.0])
    assert loss.item() == pytest.approx(-(math.log(0.5) + math.log(0.1)) / 2, rel=1e-12)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_with_finite_gradients():
    p = _t([0.0, 1.0, 0.0, 1.0], grad=True)
    loss = F.binary_cross_entropy(p, [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))


def test_bce_with_logits_is_stable_for_large_logits_and_exact_at_zero():
    x = _t([1000.0, -1000.0, 0.0, 0.0], grad=True)
    target = [0.0, 1.0, 1.0, 0.25]
    loss = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1000.0, 1000.0, math.log(2), math.log(2)],
                               rtol=1e-12)
    loss.sum().backward()
    # d/dx = sigmoid(x) - target, also at the kink-free point x = 0
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -0.5, 0.25], rtol=1e-12)


def test_cross_entropy_on_a_small_example():
    logits = _t([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    loss = F.cross_entropy(logits, np.array([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [-math.log(0.75), -math.log(0.25)], rtol=1e-12)
    assert F.cross_entropy(logits[0], 1).item() == pytest.approx(-math.log(0.75), rel=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    loss = F.cross_entropy(Tensor([[1e4, 0.0, -1e4]]), np.array([1]))
    assert loss.item() == pytest.approx(1e4, rel=1e-6)


def test_cross_entropy_accepts_int_tensors_and_lists_as_targets():
    logits = Tensor.randn(3, 4)
    expected = F.cross_entropy(logits, np.array([0, 3, 2])).item()
    assert F.cross_entropy(logits, Tensor([0, 3, 2])).item() == expected
    assert F.cross_entropy(logits, [0, 3, 2]).item() == expected


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_are_mean_sum_and_none_of_the_same_losses(reduction):
    rng = np.random.default_rng(0)
    pred, target = _t(rng.standard_normal((4, 3))), rng.standard_normal((4, 3))
    per_element = F.mse_loss(pred, target, reduction="none").numpy()
    reduced = F.mse_loss(pred, target, reduction=reduction).numpy()
    expected = {"mean": per_element.mean(), "sum": per_element.sum(), "none": per_element}
    np.testing.assert_allclose(reduced, expected[reduction], rtol=1e-12)


# ---- gradients ----
def _cases(rng):
    x = rng.standard_normal((4, 3))
    return {
        "mse_loss": (F.mse_loss, x, rng.standard_normal((4, 3))),
        "l1_loss": (F.l1_loss, x, rng.standard_normal((4, 3))),
        "binary_cross_entropy": (F.binary_cross_entropy, rng.uniform(0.05, 0.95, (4, 3)),
                                 rng.uniform(0, 1, (4, 3))),
        "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, 3 * x,
                                             rng.uniform(0, 1, (4, 3))),
        "cross_entropy": (F.cross_entropy, 3 * x, rng.integers(0, 3, 4)),
    }


LOSSES = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
          "cross_entropy"]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_gradients_match_finite_differences(name, reduction):
    fn, x, target = _cases(np.random.default_rng(1))[name]
    assert gradcheck(lambda x: fn(x, target, reduction=reduction), [_t(x, grad=True)])


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_match_pytorch_values_and_gradients(name, reduction):
    torch = pytest.importorskip("torch")
    fn, x, target = _cases(np.random.default_rng(2))[name]
    ours_x = _t(x, grad=True)
    ours = fn(ours_x, target, reduction=reduction)
    ours.backward(np.ones(ours.shape))
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = getattr(torch.nn.functional, name)(theirs_x, torch.tensor(target),
                                                reduction=reduction)
    theirs.backward(torch.ones_like(theirs))
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10,
                               atol=1e-14)


# ---- errors ----
def test_mismatched_shapes_are_an_error_not_a_silent_broadcast():
    with pytest.raises(ShapeError, match=r"mse_loss: input has shape \(4, 1\) but target has "
                                         r"shape \(4,\).*target.reshape\(4, 1\)"):
        F.mse_loss(Tensor.zeros(4, 1), np.zeros(4))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_unknown_reduction_is_an_error(fn):
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none'"):
        fn(Tensor.zeros(2), np.zeros(2), reduction="avg")


def test_binary_cross_entropy_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\].*with_logits"):
        F.binary_cross_entropy(Tensor([0.5, 1.5]), [1.0, 0.0])


def test_losses_need_a_floating_tensor_input():
    with pytest.raises(DTypeError, match="must be a Tensor"):
        F.mse_loss(np.zeros(2), np.zeros(2))
    with pytest.raises(DTypeError, match="floating"):
        F.l1_loss(Tensor([1, 2]), [1, 2])


def test_cross_entropy_validates_its_targets():
    logits = Tensor.randn(3, 4)
    with pytest.raises(DTypeError, match="integer class indices"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ShapeError, match=r"need a target of shape \(3,\).*got \(3, 1\)"):
        F.cross_entropy(logits, np.array([[0], [1], [2]]))
    with pytest.raises(IndexingError, match=r"class index 4 but logits have 4 classes "
                                            r"\(valid: 0..3\)"):
        F.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(IndexError):
        F.cross_entropy(logits, np.array([0, -1, 1]))
    with pytest.raises(ShapeError, match=r"\(n, classes\)"):
        F.cross_entropy(Tensor.randn(2, 3, 4), np.zeros((2, 3), dtype=int))


def test_cross_entropy_reads_its_class_indices_back_once(cpu_backend, monkeypatch):
    """The range check is cross_entropy's own; its gather does not check the same indices
    again (each check is a readback from the device, and a host entry in a captured step)."""
    from tinygrad_edu.tensor import validation
    checks = []
    real = validation.check_values

    def counting(check, tensor, *params):
        checks.append(check.__name__)
        return real(check, tensor, *params)
    for module in ("tinygrad_edu.nn.loss_functions", "tinygrad_edu.tensor.shape"):
        monkeypatch.setattr(f"{module}.check_values", counting)
    logits = Tensor.randn(5, 4, requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0, 3, 1, 2, 3]))
    assert checks == ["_check_class_indices"]
    loss.backward()   # the gradient is the usual one: softmax minus the one-hot targets
    probs = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True)
    probs[np.arange(5), [0, 3, 1, 2, 3]] -= 1
    np.testing.assert_allclose(logits.grad.numpy(), probs / 5, rtol=1e-5, atol=1e-7)
    assert F.cross_entropy(Tensor.randn(4), 2).shape == ()


@pytest.mark.parametrize("module, fn", [
    (nn.MSELoss, F.mse_loss), (nn.L1Loss, F.l1_loss), (nn.BCELoss, F.binary_cross_entropy),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits)])
def test_loss_modules_call_their_functions(module, fn):
    x, target = Tensor([0.2, 0.7]), [0.0, 1.0]
    assert module()(x, target).item() == fn(x, target).item()
    np.testing.assert_array_equal(module(reduction="none")(x, target).numpy(),
                                  fn(x, target, reduction="none").numpy())
    assert repr(module(reduction="sum")) == f"{module.__name__}(reduction='sum')"
    with pytest.raises(ValueError, match="reduction"):
        module(reduction="avg")


def test_cross_entropy_module():
    logits = Tensor.randn(3, 4)
    assert nn.CrossEntropyLoss()(logits, [1, 2, 3]).item() == F.cross_entropy(
        logits, [1, 2, 3]).item()
