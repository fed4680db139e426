"""flat=True: every parameter, gradient and state array a view of one buffer per kind, one
update call for all parameters, and the same numbers as the per-parameter optimizer."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, get_backend, nn, optim
from tinygrad_edu.errors import ArgumentError, GradError
from tinygrad_edu.nn import functional as F

OPTIMIZERS = {
    "sgd": lambda ps, flat: optim.SGD(ps, lr=0.1, flat=flat),
    "sgd_nesterov_decay": lambda ps, flat: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                                     weight_decay=0.01, flat=flat),
    "sgd_dampening": lambda ps, flat: optim.SGD(ps, lr=0.05, momentum=0.5, dampening=0.5,
                                                flat=flat),
    "adam_l2": lambda ps, flat: optim.Adam(ps, lr=0.01, weight_decay=0.01, flat=flat),
    "adamw": lambda ps, flat: optim.AdamW(ps, lr=0.01, flat=flat),
}


def _setup(which, flat):
    tg.manual_seed(0)
    model = nn.MLP(6, [5], 2)
    return model, OPTIMIZERS[which](model.parameters(), flat)


def _data(n):
    rng = np.random.default_rng(3)
    return [(Tensor(rng.standard_normal((4, 6)).astype(np.float32)),
             Tensor(rng.standard_normal((4, 2)).astype(np.float32))) for _ in range(n)]


def _train(model, opt, data, zero=None):
    losses = []
    for x, y in data:
        (zero or opt.zero_grad)()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _same(model_a, opt_a, model_b, opt_b):
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert (a.numpy() == b.numpy()).all()
    for ea, eb in zip(opt_a.state_dict()["state"], opt_b.state_dict()["state"]):
        assert ea.keys() == eb.keys()
        assert all((np.asarray(ea[k]) == np.asarray(eb[k])).all() for k in ea)


@pytest.mark.parametrize("which", sorted(OPTIMIZERS))
def test_a_flat_optimizer_gives_the_per_parameter_numbers_bit_for_bit(cpu_backend, which):
    ref_model, ref_opt = _setup(which, False)
    model, opt = _setup(which, True)
    data = _data(4)
    assert _train(model, opt, data) == _train(ref_model, ref_opt, data)
    _same(ref_model, ref_opt, model, opt)


@pytest.mark.parametrize("flat, calls", [(False, 4), (True, 1)])
def test_a_flat_step_is_one_backend_call(cpu_backend, monkeypatch, flat, calls):
    model, opt = _setup("adamw", flat)
    backend = get_backend()
    counted = []
    update = backend.adam_update
    monkeypatch.setattr(backend, "adam_update", lambda *a: counted.append(1) or update(*a))
    _train(model, opt, _data(2))
    assert len(counted) == 2 * calls


def test_parameters_and_gradients_are_views_of_the_flat_buffers(cpu_backend):
    model, opt = _setup("sgd", True)
    first = model.parameters()[0]
    assert first.grad is not None and not first.grad.numpy().any()   # zeros from the start
    model.load_state_dict({k: np.full(v.shape, 2.0) for k, v in model.state_dict().items()})
    _train(model, opt, _data(1))
    # Every parameter moved by lr * its gradient: the update ran on the loaded values.
    for p in model.parameters():
        assert np.allclose(p.numpy(), 2.0 - 0.1 * p.grad.numpy())


def test_the_state_dict_round_trips_between_flat_and_per_parameter_optimizers(cpu_backend):
    data = _data(6)
    ref_model, ref_opt = _setup("adam_l2", False)
    model, opt = _setup("adam_l2", True)
    _train(ref_model, ref_opt, data[:3])
    _train(model, opt, data[:3])
    saved = opt.state_dict()
    ref_opt.load_state_dict(saved)
    opt.load_state_dict(ref_opt.state_dict())
    assert _train(model, opt, data[3:]) == _train(ref_model, ref_opt, data[3:])
    _same(ref_model, ref_opt, model, opt)


def test_gradients_reset_to_none_are_copied_into_the_flat_buffer(cpu_backend):
    ref_model, ref_opt = _setup("sgd_nesterov_decay", False)
    model, opt = _setup("sgd_nesterov_decay", True)
    data = _data(3)
    assert _train(model, opt, data, zero=model.zero_grad) == _train(ref_model, ref_opt, data)
    _same(ref_model, ref_opt, model, opt)


def test_a_converted_model_is_laid_out_again_on_the_next_step(cpu_backend):
    """After model.double() the next step packs the float64 parameters anew."""
    ref_model, ref_opt = _setup("adamw", False)
    model, opt = _setup("adamw", True)
    data = _data(4)
    _train(ref_model, ref_opt, data[:2])
    _train(model, opt, data[:2])
    ref_model.double()
    model.double()
    data = [(x.double(), y.double()) for x, y in data[2:]]
    # The flat state is converted with the parameters (the per-parameter optimizer keeps
    # float32 moments for float64 parameters), so the two agree to float32 rounding only.
    assert np.allclose(_train(model, opt, data), _train(ref_model, ref_opt, data), rtol=1e-6)
    assert model.parameters()[0].dtype == np.float64
    assert opt.state_dict()["state"][0]["exp_avg"].dtype == np.float64


def test_a_parameter_without_a_gradient_is_an_error(cpu_backend):
    model, opt = _setup("sgd", True)
    model.parameters()[0].grad = None
    with pytest.raises(GradError, match="has no gradient"):
        opt.step()


def test_parameters_of_mixed_dtypes_cannot_share_a_buffer():
    a = nn.Parameter(np.zeros(3, np.float32))
    b = nn.Parameter(np.zeros(3, np.float64))
    with pytest.raises(ArgumentError, match="one dtype and device"):
        optim.SGD([a, b], lr=0.1, flat=True)


def test_a_graph_built_before_a_flat_step_cannot_backpropagate_after_it(cpu_backend):
    model, opt = _setup("sgd", True)
    x, y = _data(1)[0]
    stale = F.mse_loss(model(x), y)
    _train(model, opt, _data(1))
    with pytest.raises(GradError, match="changed in place"):
        stale.backward()


@pytest.mark.parametrize("which", ["sgd_nesterov_decay", "adamw"])
def test_a_captured_flat_step_gives_the_per_parameter_eager_numbers(cpu_backend, which):
    ref_model, ref_opt = _setup(which, False)
    model, opt = _setup(which, True)

    @tg.capture
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    data = _data(6)
    assert [step(x, y).item() for x, y in data] == _train(ref_model, ref_opt, data)
    assert step.captured
    _same(ref_model, ref_opt, model, opt)


def test_a_state_with_different_step_counts_per_parameter_is_refused_unchanged(cpu_backend):
    model, opt = _setup("adamw", True)
    _train(model, opt, _data(2))
    saved = opt.state_dict()
    saved["state"][1]["step"] = 7
    with pytest.raises(ArgumentError, match="different keys or step counts"):
        opt.load_state_dict(saved)
    assert [entry["step"] for entry in opt.state_dict()["state"]] == [2] * 4
