"""Training the ranking MLP: minibatch epochs, validation after each, and a watch on every layer.

``fit`` trains a model on a ``RankingTask`` with MSE and reports to an ``Observer`` (a progress
bar, a log) as it goes. After every epoch, and once before the first, it scores the validation
users under ``no_grad`` with an ``ActivationMonitor`` attached, so each epoch records the
validation loss, NDCG@10 and AUC, and every layer's activation statistics and dead-unit
fraction. A non-finite training loss stops the run at once with ``TrainingDiverged``, before the
step that would spread it into the weights.

Given a ``distributed.DataParallel`` model, ``fit`` trains data-parallel: every process draws
the same order of the training pairs, runs its shard of each global batch, and ``train_step``
averages the gradients (and the loss) over the processes before the optimizer's step, so the
run equals one process's on the whole batch to float32 rounding. Rank 0 alone validates.
"""

import functools
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import optim
from ..capture import capture
from ..check.diagnostics import ActivationMonitor
from ..distributed import DataParallel, World
from ..errors import ArgumentError, NonFiniteValueWarning, TinygradEduError
from ..nn import functional as F
from ..tensor import Tensor, no_grad
from .metrics import ranking_metrics

__all__ = ["OPTIMIZERS", "TrainingDiverged", "EpochRecord", "TrainingHistory", "Observer",
           "make_optimizer", "evaluate", "results_on_test_users", "train_step", "fit"]

OPTIMIZERS = ("adam", "adamw", "sgd")
LAYER_FIELDS = ("layer", "activation", "units", "pre_mean", "pre_std", "mean", "std",
                "dead_fraction", "saturated_fraction")


class TrainingDiverged(TinygradEduError, FloatingPointError):
    """The training loss became NaN or infinite; ``epoch``, ``step`` (within the epoch),
    ``loss`` and ``lr`` say where and with what learning rate."""

    def __init__(self, epoch, step, loss, lr):
        self.epoch, self.step, self.loss, self.lr = epoch, step, loss, lr
        super().__init__(f"training diverged: the loss became {loss} at epoch {epoch}, step "
                         f"{step}, with learning rate {lr:g}; the run stopped before that step "
                         "changed the weights")


@dataclass
class EpochRecord:
    """One epoch: mean training-batch loss (None before training), the validation metrics
    (``mse``, ``ndcg@10``, ``auc``), the layers' statistics on the validation users (dicts with
    ``LAYER_FIELDS``) and the epoch's training time."""

    epoch: int
    train_loss: object
    validation: dict
    layers: list
    seconds: float = 0.0


@dataclass
class TrainingHistory:
    """What ``fit`` saw: one ``EpochRecord`` per epoch (epoch 0 is before training), every
    step's batch loss, the number of steps, the training time (validation excluded) and, of
    it, the time spent averaging gradients across processes (0 in one process)."""

    epochs: list = field(default_factory=list)
    step_losses: list = field(default_factory=list)
    steps: int = 0
    train_seconds: float = 0.0
    allreduce_seconds: float = 0.0
    warnings: list = field(default_factory=list)

    @property
    def final(self):
        return self.epochs[-1]


class Observer:
    """Callbacks of ``fit``; this one ignores them. Override what you want to show."""

    def epoch_started(self, epoch, epochs, steps):
        """Epoch ``epoch`` of ``epochs`` begins and will take ``steps`` steps."""

    def step_done(self, step, loss, running_loss):
        """Step ``step`` of the epoch (from 1) had batch loss ``loss``; ``running_loss`` is the
        epoch's mean so far."""

    def epoch_done(self, record):
        """An ``EpochRecord`` is complete (also called for epoch 0, before training)."""


def make_optimizer(name, params, lr):
    """``"adam"``, ``"adamw"`` or ``"sgd"`` (with momentum 0.9) over ``params``."""
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "adamw":
        return optim.AdamW(params, lr=lr)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    raise ArgumentError(f"make_optimizer: unknown optimizer {name!r}; expected one of "
                        f"{', '.join(map(repr, OPTIMIZERS))}")


def evaluate(model, task, split, device="cpu", monitor=False):
    """Score ``split`` under ``no_grad``; ``(metrics, layer statistics, monitor warnings)``.

    ``metrics`` has ``mse``, ``ndcg@10`` and ``auc``; the statistics (one dict per layer, empty
    without ``monitor``) come from an ``ActivationMonitor`` watching this one batch.
    """
    features = Tensor(split.features, device=device)
    if monitor:
        with ActivationMonitor(model, warn=False) as watch, no_grad():
            scores = model(features).numpy()
        layers = [{name: getattr(s, name) for name in LAYER_FIELDS} for s in watch.latest()]
        found = list(watch.warnings)
    else:
        with no_grad():
            scores = model(features).numpy()
        layers, found = [], []
    metrics = ranking_metrics(scores, split.targets, task.relevant(split), split.users)
    return metrics, layers, found


def results_on_test_users(model, task, device="cpu"):
    """The metrics of ``model`` on the test users beside two yardsticks: always predicting the
    mean training score (the floor) and the noise-free ground truth (the ceiling)."""
    split, relevant = task.test, task.relevant(task.test)
    mean = np.full(len(split), float(task.train.targets.mean()))
    return {"model": evaluate(model, task, split, device)[0],
            "predict_the_mean": ranking_metrics(mean, split.targets, relevant, split.users),
            "ground_truth": ranking_metrics(split.truth, split.targets, relevant, split.users)}


def train_step(model, opt, features, targets, rows, device="cpu", captured=None):
    """One step on the global batch ``features[rows]``, ``targets[rows]``; returns its MSE.

    ``model`` is a ``DataParallel``: this process runs its shard of ``rows`` forward and
    backward, the gradients and the loss are averaged over the processes, and ``opt`` steps
    unless that loss is not finite (the caller stops the run then, with nothing changed).

    ``captured``, a dict, turns on captured steps (``tinygrad_edu.capture``): the forward and
    backward pass of each shard shape is captured once and replayed from then on, with the
    same numbers. The averaging and the optimizer's step stay outside the capture, after the
    loss is read, so a non-finite loss still changes nothing.
    """
    start, stop, weight = model.shard(len(rows))
    local = 0.0
    if stop > start:   # a short last batch can leave a process without rows
        mine = rows[start:stop]
        x, y = Tensor(features[mine], device=device), Tensor(targets[mine], device=device)
        if captured is None:
            model.zero_grad()
            loss = _weighted_mse(model, x, y, weight)
            local = loss.item()
            if math.isfinite(local):
                loss.backward()
        else:
            key = (stop - start, weight)
            if key not in captured:
                captured[key] = capture(functools.partial(_forward_backward, model,
                                                          weight=weight))
            local = captured[key](x, y).item()
    else:
        model.zero_grad()
    value = model.average_gradients(local)
    if math.isfinite(value):
        opt.step()
    return value


def _weighted_mse(model, x, y, weight):
    loss = F.mse_loss(model(x), y)
    return loss * weight if weight != 1 else loss


def _forward_backward(model, x, y, weight):
    """The captured part of a step: zero_grad, the shard's weighted MSE, backward."""
    model.zero_grad()
    loss = _weighted_mse(model, x, y, weight)
    # backward's warning on a non-finite loss would come before fit's own TrainingDiverged,
    # which says the same and stops the run before the optimizer's step.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonFiniteValueWarning)
        loss.backward()
    return loss


def fit(model, task, *, epochs=10, batch_size=256, lr=1e-3, optimizer="adam", seed=0,
        device="cpu", max_steps=None, observer=None, capture_steps=True):
    """Train ``model`` on ``task.train`` with MSE; return a ``TrainingHistory``.

    With ``capture_steps`` (the default) each batch shape's forward and backward pass is
    captured and replayed (``train_step``), with the same numbers as ``capture_steps=False``.

    Each epoch visits the training pairs once in an order drawn from ``seed``; ``max_steps``
    stops earlier. Raises ``TrainingDiverged`` at the first non-finite batch loss. A
    ``DataParallel`` model trains data-parallel with ``batch_size`` the global batch, which
    must split evenly over the processes (``ArgumentError`` otherwise).
    """
    if batch_size > len(task.train):
        raise ArgumentError(f"fit: batch_size {batch_size} is larger than the {len(task.train)} "
                            "training pairs")
    parallel = model if isinstance(model, DataParallel) else DataParallel(model, World())
    parallel.check_batch(batch_size, "fit")
    model, observer = parallel.module, observer or Observer()
    opt = make_optimizer(optimizer, model.parameters(), lr)
    order_rng = np.random.default_rng(seed)
    history = TrainingHistory()
    history.epochs.append(_epoch_record(parallel, task, device, 0, None, 0.0, history))
    observer.epoch_done(history.final)
    features, targets = task.train.features, task.train.targets
    steps_per_epoch = math.ceil(len(task.train) / batch_size)
    synced = parallel.allreduce_seconds
    captured = {} if capture_steps else None
    for epoch in range(1, epochs + 1):
        steps = steps_per_epoch
        if max_steps is not None:
            steps = min(steps, max_steps - history.steps)
        observer.epoch_started(epoch, epochs, steps)
        order = order_rng.permutation(len(task.train))
        start, total = time.perf_counter(), 0.0
        for step in range(1, steps + 1):
            rows = order[(step - 1) * batch_size:step * batch_size]
            value = train_step(parallel, opt, features, targets, rows, device, captured)
            if not math.isfinite(value):
                raise TrainingDiverged(epoch, step, value, lr)
            total += value
            history.step_losses.append(value)
            history.steps += 1
            observer.step_done(step, value, total / step)
        seconds = time.perf_counter() - start
        history.train_seconds += seconds
        history.allreduce_seconds = parallel.allreduce_seconds - synced
        history.epochs.append(_epoch_record(parallel, task, device, epoch, total / steps,
                                            seconds, history))
        observer.epoch_done(history.final)
        if max_steps is not None and history.steps >= max_steps:
            break
    return history


def _epoch_record(parallel, task, device, epoch, train_loss, seconds, history):
    if not parallel.is_main:
        return EpochRecord(epoch, train_loss, None, [], seconds)
    metrics, layers, found = evaluate(parallel.module, task, task.validation, device,
                                      monitor=True)
    history.warnings = found   # the latest epoch's findings are the ones that still hold
    return EpochRecord(epoch, train_loss, metrics, layers, seconds)
