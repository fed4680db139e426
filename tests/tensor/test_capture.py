"""Captured training steps: bit-identical to the eager step, and refused when a replay would
not be (changed inputs, another path, values read back, host data, replaced parameters)."""

import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import CaptureError, Tensor, capture, nn, optim
from tinygrad_edu.errors import (ArgumentError, GradError, IndexingError, NonFiniteError,
                                 NonFiniteValueWarning)
from tinygrad_edu.nn import functional as F
from tinygrad_edu.tensor.autodiff import Function

OPTIMIZERS = {
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


def _setup(make_opt, set_to_none=True, seed=0):
    tg.manual_seed(seed)
    model = nn.MLP(7, [9, 5], 1)
    opt = make_opt(model.parameters())

    def train_step(x, y):
        opt.zero_grad(set_to_none=set_to_none)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, train_step


def _batches(n, batch=3, features=7):
    rng = np.random.default_rng(1)
    return [(Tensor(rng.standard_normal((batch, features)).astype(np.float32)),
             Tensor(rng.standard_normal((batch, 1)).astype(np.float32))) for _ in range(n)]


def _assert_same_state(model_a, opt_a, model_b, opt_b):
    for (name, a), (_, b) in zip(model_a.named_parameters(), model_b.named_parameters()):
        assert (a.numpy() == b.numpy()).all(), name
        assert (a.grad.numpy() == b.grad.numpy()).all(), f"{name}.grad"
    state_a, state_b = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    for entry_a, entry_b in zip(state_a, state_b):
        assert entry_a.keys() == entry_b.keys()
        for key in entry_a:
            assert (np.asarray(entry_a[key]) == np.asarray(entry_b[key])).all(), key


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("which", sorted(OPTIMIZERS))
def test_captured_steps_match_eager_steps_bit_for_bit(cpu_backend, which, set_to_none):
    eager_model, eager_opt, eager_step = _setup(OPTIMIZERS[which], set_to_none)
    model, opt, train_step = _setup(OPTIMIZERS[which], set_to_none)
    step = capture(train_step)
    data = _batches(7)
    eager = [eager_step(x, y).item() for x, y in data]
    captured = [step(x, y).item() for x, y in data]
    assert step.captured and step.captures == 1
    assert captured == eager
    _assert_same_state(eager_model, eager_opt, model, opt)
    if which != "sgd_momentum":   # Adam's step count went on through the replays
        assert opt.state_dict()["state"][0]["step"] == len(data)


def test_a_replay_builds_no_graph_and_applies_no_function(monkeypatch):
    model, opt, train_step = _setup(OPTIMIZERS["adam"])
    step = capture(train_step)
    data = _batches(4)
    for x, y in data[:3]:
        step(x, y)

    def refuse(cls, *tensors, **params):
        raise AssertionError(f"{cls.__name__}.apply ran during a replay")
    monkeypatch.setattr(Function, "apply", classmethod(refuse))
    loss = step(*data[3])
    assert loss.grad_fn is None and np.isfinite(loss.item())
    assert "def replay" in step.code


def test_the_decorator_forms_and_warmup():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(warmup=2)(train_step)
    data = _batches(5)
    for i, (x, y) in enumerate(data):
        step(x, y)
        assert step.captured == (i >= 3)
    with pytest.raises(ArgumentError, match="warmup"):
        capture(warmup=-1)


@pytest.mark.parametrize("change", ["shape", "dtype", "requires_grad", "count"])
def test_inputs_unlike_the_captured_ones_are_refused(change):
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    for x, y in _batches(3):
        step(x, y)
    x, y = _batches(1)[0]
    if change == "shape":
        x = Tensor(np.zeros((4, 7), np.float32))
    elif change == "dtype":
        x = Tensor(np.zeros((3, 7), np.float64))
    elif change == "requires_grad":
        x = Tensor(np.zeros((3, 7), np.float32), requires_grad=True)
    before = [p.numpy().copy() for p in model.parameters()]
    with pytest.raises(CaptureError, match="captured with"):
        step(x) if change == "count" else step(x, y)
    assert all((a == p.numpy()).all() for a, p in zip(before, model.parameters()))


def test_a_step_that_takes_another_path_on_the_next_call_is_refused():
    model, opt, _ = _setup(OPTIMIZERS["sgd_momentum"])
    calls = []

    @capture
    def step(x, y):
        calls.append(1)
        opt.zero_grad()
        out = model(x)
        out = out.relu() if len(calls) % 2 else out.sigmoid()   # Python state steers it
        loss = F.mse_loss(out, y)
        loss.backward()
        opt.step()
        return loss
    data = _batches(3)
    step(*data[0])
    step(*data[1])
    with pytest.raises(CaptureError, match="another path"):
        step(*data[2])
    assert not step.captured


def test_reading_an_intermediate_value_back_mid_step_is_refused():
    model, opt, _ = _setup(OPTIMIZERS["sgd_momentum"])

    @capture
    def step(x, y):
        opt.zero_grad()
        out = model(x)
        if out.mean().item() > 1e6:   # a decision the replay could not take again
            out = out * 0.5
        loss = F.mse_loss(out, y)
        loss.backward()
        opt.step()
        return loss
    data = _batches(2)
    step(*data[0])
    with pytest.raises(CaptureError, match="reads a value back"):
        step(*data[1])


def test_host_data_made_anew_in_each_call_is_refused_and_a_fixed_one_is_a_constant():
    model, opt, _ = _setup(OPTIMIZERS["sgd_momentum"])
    rng = np.random.default_rng(5)

    @capture
    def noisy(x, y):
        opt.zero_grad()
        noise = Tensor(rng.standard_normal(x.shape).astype(np.float32))
        loss = F.mse_loss(model(x + noise), y)
        loss.backward()
        opt.step()
        return loss
    data = _batches(3)
    noisy(*data[0])
    noisy(*data[1])
    with pytest.raises(CaptureError, match="a host array made in the step"):
        noisy(*data[2])

    results = []
    for wrap in (lambda f: f, capture):
        m, o, _ = _setup(OPTIMIZERS["sgd_momentum"])

        def scaled(x, y, m=m, o=o):
            o.zero_grad()
            loss = F.mse_loss(m(x * Tensor(np.full((1, 7), 0.5, np.float32))), y)
            loss.backward()
            o.step()
            return loss
        step = wrap(scaled)
        results.append([step(x, y).item() for x, y in _batches(5)])
    assert results[0] == results[1]


def test_changing_the_learning_rate_after_capture_takes_effect_without_a_new_capture():
    eager_model, eager_opt, eager_step = _setup(OPTIMIZERS["adam"])
    model, opt, train_step = _setup(OPTIMIZERS["adam"])
    step = capture(train_step)
    eager, captured = [], []
    for i, (x, y) in enumerate(_batches(8)):
        eager_opt.lr = opt.lr = 0.01 * 0.5 ** i   # a schedule
        eager.append(eager_step(x, y).item())
        captured.append(step(x, y).item())
    assert captured == eager and step.captures == 1
    _assert_same_state(eager_model, eager_opt, model, opt)


def test_load_state_dict_writes_in_place_and_the_replay_follows():
    eager_model, eager_opt, eager_step = _setup(OPTIMIZERS["adam"])
    model, opt, train_step = _setup(OPTIMIZERS["adam"])
    step = capture(train_step)
    data = _batches(8)
    for x, y in data[:4]:
        eager_step(x, y)
        step(x, y)
    saved_model, saved_opt = eager_model.state_dict(), eager_opt.state_dict()
    for x, y in data[4:6]:
        eager_step(x, y)
        step(x, y)
    for m, o in ((eager_model, eager_opt), (model, opt)):
        m.load_state_dict(saved_model)
        o.load_state_dict(saved_opt)
    assert [step(x, y).item() for x, y in data[6:]] == [eager_step(x, y).item()
                                                         for x, y in data[6:]]
    _assert_same_state(eager_model, eager_opt, model, opt)


def test_a_replaced_parameter_or_converted_model_is_refused():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    data = _batches(4)
    for x, y in data[:3]:
        step(x, y)
    model.layers[0].weight = nn.Parameter(np.zeros((7, 9), np.float32))
    with pytest.raises(CaptureError, match="Layer.weight was replaced"):
        step(*data[3])
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    for x, y in data[:3]:
        step(x, y)
    model.double()
    with pytest.raises(CaptureError, match="data of .* was replaced"):
        step(*data[3])
    step.reset()
    assert not step.captured


def test_a_step_must_return_tensors():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(lambda x, y: train_step(x, y).item())
    data = _batches(2)
    step(*data[0])
    with pytest.raises(CaptureError, match="reads a value back|must return"):
        step(*data[1])


def test_a_graph_built_before_a_replay_cannot_backpropagate_after_it():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    data = _batches(5)
    for x, y in data[:3]:
        step(x, y)
    stale = model(data[3][0]).sum()
    step(*data[4])   # a replay: writes the parameters in place
    with pytest.raises(GradError, match="changed in place"):
        stale.backward()


def test_an_input_that_requires_grad_is_refused_when_recording():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step, warmup=0)
    x, y = _batches(1)[0]
    with pytest.raises(CaptureError, match="input 0 requires grad"):
        step(Tensor(x.numpy(), requires_grad=True), y)


def test_python_values_other_than_tensors_are_not_inputs():
    step = capture(lambda x, lr: x)
    with pytest.raises(TypeError, match="input 1 is a float"):
        step(Tensor([1.0]), 0.1)


def test_steps_captured_in_two_threads_at_once_each_record_only_their_own_calls(cpu_backend):
    """Two models trained side by side in two threads, their steps recorded at the same time
    (a barrier holds each thread inside its step until the other is in its own): each
    replays its own eager numbers, and no call of one lands in the other's recording."""
    batches = _batches(6)
    eager = []
    for seed in (3, 4):
        model, opt, train_step = _setup(OPTIMIZERS["adam"], seed=seed)
        eager.append(([train_step(x, y).item() for x, y in batches], model.state_dict()))
    both_inside = threading.Barrier(2, timeout=30)
    results, errors = {}, []

    # Built here, one after the other: the generator is process-wide, as torch's is, so two
    # threads seeding and drawing at once would interleave their draws.
    setups = {seed: _setup(OPTIMIZERS["adam"], seed=seed) for seed in (3, 4)}

    def train(seed):
        try:
            model, opt, train_step = setups[seed]

            def step(x, y):
                loss = train_step(x, y)
                both_inside.wait()   # the other thread is inside its step now too
                return loss
            captured = capture(step)
            results[seed] = ([captured(x, y).item() for x, y in batches], model.state_dict(),
                             captured.captured)
        except Exception as exc:   # reported below, in the main thread
            errors.append(exc)
            both_inside.abort()

    threads = [threading.Thread(target=train, args=(seed,)) for seed in (3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for seed, (losses, state) in zip((3, 4), eager):
        got_losses, got_state, captured = results[seed]
        assert captured and got_losses == losses
        for name, value in state.items():
            np.testing.assert_array_equal(got_state[name], value)


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
    _assert_same_state(eager_model, eager_opt, model, opt)

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
    _assert_same_state(eager_model, eager_opt, model, opt)


def test_a_captured_step_checks_its_gradient_norm_on_every_replay(cpu_backend):
    data = _batches(4)
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
