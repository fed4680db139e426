"""Captured training steps: bit-identical to the eager step, and refused when a replay would
not be (changed inputs, another path, values read back, host data, replaced parameters). The
value checks a replay runs again are in test_capture_value_checks.py."""

import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import CaptureError, Tensor, capture, nn, optim
from tinygrad_edu.errors import ArgumentError, GradError
from tinygrad_edu.nn import functional as F
from tinygrad_edu.tensor.autodiff import Function

from capture_steps import assert_same_state, make_batches

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


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("which", sorted(OPTIMIZERS))
def test_captured_steps_match_eager_steps_bit_for_bit(cpu_backend, which, set_to_none):
    eager_model, eager_opt, eager_step = _setup(OPTIMIZERS[which], set_to_none)
    model, opt, train_step = _setup(OPTIMIZERS[which], set_to_none)
    step = capture(train_step)
    data = make_batches(7)
    eager = [eager_step(x, y).item() for x, y in data]
    captured = [step(x, y).item() for x, y in data]
    assert step.captured and step.captures == 1
    assert captured == eager
    assert_same_state(eager_model, eager_opt, model, opt)
    if which != "sgd_momentum":   # Adam's step count went on through the replays
        assert opt.state_dict()["state"][0]["step"] == len(data)


def test_a_replay_builds_no_graph_and_applies_no_function(monkeypatch):
    model, opt, train_step = _setup(OPTIMIZERS["adam"])
    step = capture(train_step)
    data = make_batches(4)
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
    data = make_batches(5)
    for i, (x, y) in enumerate(data):
        step(x, y)
        assert step.captured == (i >= 3)
    with pytest.raises(ArgumentError, match="warmup"):
        capture(warmup=-1)


@pytest.mark.parametrize("change", ["shape", "dtype", "requires_grad", "count"])
def test_inputs_unlike_the_captured_ones_are_refused(change):
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    for x, y in make_batches(3):
        step(x, y)
    x, y = make_batches(1)[0]
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
    data = make_batches(3)
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
    data = make_batches(2)
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
    data = make_batches(3)
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
        results.append([step(x, y).item() for x, y in make_batches(5)])
    assert results[0] == results[1]


def test_changing_the_learning_rate_after_capture_takes_effect_without_a_new_capture():
    eager_model, eager_opt, eager_step = _setup(OPTIMIZERS["adam"])
    model, opt, train_step = _setup(OPTIMIZERS["adam"])
    step = capture(train_step)
    eager, captured = [], []
    for i, (x, y) in enumerate(make_batches(8)):
        eager_opt.lr = opt.lr = 0.01 * 0.5 ** i   # a schedule
        eager.append(eager_step(x, y).item())
        captured.append(step(x, y).item())
    assert captured == eager and step.captures == 1
    assert_same_state(eager_model, eager_opt, model, opt)


def test_load_state_dict_writes_in_place_and_the_replay_follows():
    eager_model, eager_opt, eager_step = _setup(OPTIMIZERS["adam"])
    model, opt, train_step = _setup(OPTIMIZERS["adam"])
    step = capture(train_step)
    data = make_batches(8)
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
    assert_same_state(eager_model, eager_opt, model, opt)


def test_a_replaced_parameter_or_converted_model_is_refused():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    data = make_batches(4)
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
    data = make_batches(2)
    step(*data[0])
    with pytest.raises(CaptureError, match="reads a value back|must return"):
        step(*data[1])


def test_a_graph_built_before_a_replay_cannot_backpropagate_after_it():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step)
    data = make_batches(5)
    for x, y in data[:3]:
        step(x, y)
    stale = model(data[3][0]).sum()
    step(*data[4])   # a replay: writes the parameters in place
    with pytest.raises(GradError, match="changed in place"):
        stale.backward()


def test_an_input_that_requires_grad_is_refused_when_recording():
    model, opt, train_step = _setup(OPTIMIZERS["sgd_momentum"])
    step = capture(train_step, warmup=0)
    x, y = make_batches(1)[0]
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
    batches = make_batches(6)
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
