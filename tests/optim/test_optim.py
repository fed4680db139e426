"""Optimizers: hand-computed steps, PyTorch's steps, resuming from state_dict, clipping."""

import math

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.errors import GradError, ShapeError

GRADS = [1.0, 2.0, -1.0]  # the gradient fed at steps 1, 2, 3 in the hand-computed tests


def _run(make, grads=GRADS, w0=1.0):
    w = Tensor([w0], dtype=np.float64, requires_grad=True)
    opt = make([w])
    trace = []
    for g in grads:
        w.grad = Tensor([g], dtype=np.float64)
        opt.step()
        trace.append(w.item())
    return trace


@pytest.mark.parametrize("kwargs, expected", [
    # w -= 0.1 * g
    ({}, [0.9, 0.7, 0.8]),
    # buf = g, then 0.9 buf + g: 1, 2.9, 1.61
    ({"momentum": 0.9}, [0.9, 0.61, 0.449]),
    # g + 0.9 buf: 1.9, 4.61, 0.449
    ({"momentum": 0.9, "nesterov": True}, [0.81, 0.349, 0.3041]),
    # g + 0.5 w: 1.5, 2.425, -0.69625
    ({"weight_decay": 0.5}, [0.85, 0.6075, 0.677125]),
    # buf = g, then 0.5 buf + (1 - 0.5) g: 1, 1.5, 0.25
    ({"momentum": 0.5, "dampening": 0.5}, [0.9, 0.75, 0.725]),
])
def test_sgd_matches_hand_computed_steps(kwargs, expected):
    assert _run(lambda p: optim.SGD(p, lr=0.1, **kwargs)) == pytest.approx(expected, abs=1e-12)


def _adam_by_hand(grads, lr, b1, b2, eps, weight_decay=0.0, decoupled=False, w=1.0):
    m = v = 0.0
    trace = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w *= 1 - lr * weight_decay
        else:
            g += weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        w -= lr * m_hat / (math.sqrt(v_hat) + eps)
        trace.append(w)
    return trace


def test_adam_first_step_moves_each_weight_by_lr():
    # With bias correction, step 1 is lr * g / (|g| + eps): a sign step of size lr.
    assert _run(lambda p: optim.Adam(p, lr=0.1), grads=[5.0])[0] == pytest.approx(0.9)


@pytest.mark.parametrize("cls, kwargs, decoupled", [
    (optim.Adam, {}, False),
    (optim.Adam, {"weight_decay": 0.3}, False),
    (optim.AdamW, {"weight_decay": 0.3}, True),
    (optim.Adam, {"betas": (0.5, 0.9), "eps": 0.1}, False),
])
def test_adam_and_adamw_match_the_published_update(cls, kwargs, decoupled):
    betas = kwargs.get("betas", (0.9, 0.999))
    expected = _adam_by_hand(GRADS, 0.1, *betas, kwargs.get("eps", 1e-8),
                             kwargs.get("weight_decay", 0.0), decoupled)
    assert _run(lambda p: cls(p, lr=0.1, **kwargs)) == pytest.approx(expected, abs=1e-12)


CONFIGS = [
    (optim.SGD, "SGD", {"lr": 0.1}),
    (optim.SGD, "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    (optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    (optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    (optim.Adam, "Adam", {"lr": 0.01}),
    (optim.Adam, "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    (optim.AdamW, "AdamW", {"lr": 0.01}),
    (optim.AdamW, "AdamW", {"lr": 0.01, "weight_decay": 0.2, "eps": 1e-3}),
]


@pytest.mark.parametrize("cls, torch_name, kwargs", CONFIGS)
def test_optimizers_match_pytorch_over_several_steps(cls, torch_name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    ours = [Tensor(a, requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt, torch_opt = cls(ours, **kwargs), getattr(torch.optim, torch_name)(theirs, **kwargs)
    for _ in range(6):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = Tensor(g), torch.tensor(g)
        opt.step()
        torch_opt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_parameters_without_gradient_are_left_alone():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = Tensor([1.0])
    opt.step()
    assert a.item() != 1.0 and b.item() == 1.0 and opt.state[1] == {}


def test_zero_grad_forgets_gradients():
    layer = nn.Linear(2, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    layer(Tensor.ones(1, 2)).sum().backward()
    opt.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


def test_learning_rate_can_be_changed_between_steps():
    trace = []
    w = Tensor([1.0], dtype=np.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    for lr in (0.1, 0.0, 0.5):
        opt.lr = lr
        w.grad = Tensor([1.0], dtype=np.float64)
        opt.step()
        trace.append(w.item())
    assert trace == pytest.approx([0.9, 0.9, 0.4])


@pytest.mark.parametrize("cls, kwargs", [(optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                         (optim.Adam, {"lr": 0.1}), (optim.AdamW, {"lr": 0.1})])
def test_state_dict_resumes_training_exactly(cls, kwargs):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((2, 3)) for _ in range(6)]
    start = rng.standard_normal((2, 3))

    def steps(opt, w, gs):
        for g in gs:
            w.grad = Tensor(g)
            opt.step()

    straight = Tensor(start, requires_grad=True)
    steps(cls([straight], **kwargs), straight, grads)

    first = Tensor(start, requires_grad=True)
    opt = cls([first], **kwargs)
    steps(opt, first, grads[:3])
    saved_state, saved_weights = opt.state_dict(), first.numpy().copy()
    steps(opt, first, grads[3:4])  # later steps must not change the saved state

    resumed = Tensor(saved_weights, requires_grad=True)
    resumed_opt = cls([resumed], lr=999.0)
    resumed_opt.load_state_dict(saved_state)
    assert resumed_opt.lr == kwargs["lr"]
    steps(resumed_opt, resumed, grads[3:])
    np.testing.assert_array_equal(resumed.numpy(), straight.numpy())


def test_load_state_dict_rejects_a_state_from_other_parameters():
    a = optim.SGD([Tensor.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    a.params[0].grad = Tensor.ones(2)
    a.step()
    with pytest.raises(ShapeError, match=r"'momentum_buffer' of parameter 0 has shape \(2,\)"):
        optim.SGD([Tensor.zeros(3, requires_grad=True)], lr=0.1).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="has 1 parameters, this optimizer has 2"):
        optim.SGD([Tensor.zeros(2, requires_grad=True), Tensor.zeros(2, requires_grad=True)],
                  lr=0.1).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="another optimizer type"):
        optim.Adam([Tensor.zeros(2, requires_grad=True)]).load_state_dict(a.state_dict())


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=-0.1), "lr"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "beta1"),
    (lambda p: optim.Adam(p, eps=-1), "eps"),
    (lambda p: optim.AdamW(p, weight_decay=-0.1), "weight_decay"),
])
def test_invalid_hyperparameters_are_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make([Tensor.zeros(2, requires_grad=True)])


def test_parameter_lists_are_checked():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        optim.SGD(nn.Linear(2, 2), lr=0.1)
    with pytest.raises(GradError, match="does not require grad"):
        optim.SGD([Tensor.zeros(2)], lr=0.1)
    p = Tensor.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([p, p], lr=0.1)


def test_clip_grad_norm_scales_all_gradients_together():
    a, b = Tensor.zeros(2, requires_grad=True), Tensor.zeros(1, requires_grad=True)
    a.grad, b.grad = Tensor([3.0, 0.0]), Tensor([4.0])
    total = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert total == pytest.approx(5.0)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(a.grad.numpy(), [3.0 * scale, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [4.0 * scale], rtol=1e-6)
    assert optim.clip_grad_norm_([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [4.0 * scale], rtol=1e-6)


def test_clip_grad_norm_matches_pytorch_including_the_inf_norm():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((3, 2)) * 5, rng.standard_normal(4)]
    for norm_type in (2.0, 1.0, math.inf):
        ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = Tensor(g), torch.tensor(g)
        total = optim.clip_grad_norm_(ours, 2.0, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type)
        assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float64
        assert total.item() == pytest.approx(float(expected), rel=1e-12)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_of_float32_gradients_returns_a_float32_norm_as_pytorch_does():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal((5, 3)).astype(np.float32) * 3, rng.standard_normal(3)
             .astype(np.float32)]
    ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = Tensor(g), torch.tensor(g)
    total = optim.clip_grad_norm_(ours, 1.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.5)
    assert total.dtype == np.float32 and expected.dtype == torch.float32
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    none = optim.clip_grad_norm_([Tensor.zeros(2, requires_grad=True)], 1.0)
    assert none.shape == () and none.item() == 0.0
