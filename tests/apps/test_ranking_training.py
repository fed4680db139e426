"""The ranking job's training loop: it learns, validates every epoch, and stops on divergence."""

import math

import numpy as np
import pytest

from tinygrad_edu import ArgumentError, manual_seed
from tinygrad_edu.apps.ranking import make_ranking_task, ranking_model
from tinygrad_edu.apps.training import (Observer, TrainingDiverged, evaluate, fit,
                                        make_optimizer, results_on_test_users)


@pytest.fixture(scope="module")
def task():
    return make_ranking_task(train_users=200, heldout_users=20, seed=0)


def _model(seed=0):
    manual_seed(seed)
    return ranking_model()


class Recorder(Observer):
    def __init__(self):
        self.events = []

    def epoch_started(self, epoch, epochs, steps):
        self.events.append(("start", epoch, epochs, steps))

    def step_done(self, step, loss, running_loss):
        self.events.append(("step", step))

    def epoch_done(self, record):
        self.events.append(("done", record.epoch))


def test_training_lowers_the_loss_and_beats_predicting_the_mean(task):
    model = _model()
    history = fit(model, task, epochs=2, batch_size=64, lr=3e-3)
    first, last = history.epochs[0].validation["mse"], history.final.validation["mse"]
    assert last < 0.7 * first
    results = results_on_test_users(model, task)
    assert results["model"]["mse"] < results["predict_the_mean"]["mse"]
    assert results["model"]["ndcg@10"] > results["predict_the_mean"]["ndcg@10"]
    assert results["predict_the_mean"]["auc"] == 0.5
    assert results["ground_truth"]["ndcg@10"] > 0.95


def test_every_epoch_records_validation_and_every_layer_from_epoch_0_on(task):
    recorder = Recorder()
    history = fit(_model(), task, epochs=2, batch_size=1000, observer=recorder)
    assert [e.epoch for e in history.epochs] == [0, 1, 2]
    assert history.epochs[0].train_loss is None and history.final.train_loss > 0
    assert history.steps == len(history.step_losses) == 2 * math.ceil(6400 / 1000)
    assert [layer["layer"] for layer in history.final.layers] == [f"layers.{i}" for i in range(4)]
    assert 0 <= history.final.layers[0]["dead_fraction"] <= 1
    assert history.final.layers[3]["dead_fraction"] is None   # the score layer has no ReLU
    assert recorder.events[:3] == [("done", 0), ("start", 1, 2, 7), ("step", 1)]
    assert recorder.events[-1] == ("done", 2)


def test_max_steps_stops_inside_an_epoch(task):
    history = fit(_model(), task, epochs=5, batch_size=3000, max_steps=4)
    assert history.steps == 4 and [e.epoch for e in history.epochs] == [0, 1, 2]


def test_the_same_seed_trains_the_same_weights(task):
    a, b = _model(), _model()
    fit(a, task, epochs=1, batch_size=1000, seed=7)
    fit(b, task, epochs=1, batch_size=1000, seed=7)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def test_a_diverging_run_stops_at_the_first_non_finite_loss_before_touching_the_weights(task):
    model = _model()
    seen = Recorder()
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(TrainingDiverged) as info:
        fit(model, task, epochs=3, batch_size=64, lr=1e6, observer=seen)
    error = info.value
    assert error.epoch == 1 and error.lr == 1e6 and not math.isfinite(error.loss)
    assert f"at epoch 1, step {error.step}" in str(error)
    steps_done = [e for e in seen.events if e[0] == "step"]
    assert len(steps_done) == error.step - 1      # the diverged step was never taken
    with np.errstate(over="ignore", invalid="ignore"):
        weights_after = [p.numpy().copy() for p in model.parameters()]
    assert all(np.isfinite(w).all() for w in weights_after)


def test_bad_training_arguments_are_refused(task):
    with pytest.raises(ArgumentError, match="batch_size 7000 is larger than the 6400"):
        fit(_model(), task, batch_size=7000)
    with pytest.raises(ArgumentError, match="unknown optimizer 'rmsprop'"):
        make_optimizer("rmsprop", _model().parameters(), 1e-3)


def test_evaluate_scores_every_pair_and_watches_the_layers_only_when_asked(task):
    model = _model()
    metrics, layers, found = evaluate(model, task, task.test, monitor=False)
    assert set(metrics) == {"mse", "ndcg@10", "auc"} and layers == [] and found == []
    metrics, layers, _ = evaluate(model, task, task.test, monitor=True)
    assert len(layers) == 4 and layers[0]["units"] == 256


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_captured_steps_train_exactly_as_eager_steps(task, optimizer):
    """6400 pairs in batches of 3000: two full batches and a short one per epoch, so two
    shapes are captured (each after a warm-up call and two recorded ones) and both are
    replayed by epoch 4, with the eager run's numbers bit for bit."""
    runs = []
    for capture_steps in (False, True):
        model = _model(3)
        history = fit(model, task, epochs=4, batch_size=3000, lr=1e-3, optimizer=optimizer,
                      capture_steps=capture_steps)
        runs.append((history.step_losses, model.state_dict()))
    (eager_losses, eager_state), (captured_losses, captured_state) = runs
    assert captured_losses == eager_losses
    for name, value in eager_state.items():
        np.testing.assert_array_equal(captured_state[name], value)
