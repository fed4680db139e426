"""``tinygrad-edu train``: the demo's network and data, trained by steps, reported in the console.

It prints the loss every 100 steps, then the test users' error and ranking metrics against
predicting the mean, and the activation monitor's table of every layer; ``--save`` writes the
weights. ``tinygrad-edu demo`` is the same job with plots, a report page and latency.

Under ``mpiexec -n P`` it trains data-parallel (``distributed.DataParallel``): each process
runs ``--batch / P`` rows of every step, the logged loss is the global batch's, and rank 0
alone prints, tests and saves.
"""

import math

from ..check.diagnostics import ActivationMonitor
from ..distributed import DataParallel, get_world
from ..kernels.cpu import compile_seconds
from ..random import manual_seed
from ..tensor import Tensor, no_grad
from .metrics import comparison
from .ranking import heldout_users, make_ranking_task, ranking_model
from .training import Observer, fit, results_on_test_users

__all__ = ["train_from_console"]

LOG_EVERY = 100


class _StepLog(Observer):
    def __init__(self, log, total_steps):
        self.log, self.total, self.done = log, total_steps, 0

    def step_done(self, step, loss, running_loss):
        self.done += 1
        if self.done == 1 or self.done % LOG_EVERY == 0 or self.done == self.total:
            self.log(f"step {self.done:5d}  loss {loss:.4f}")


def _silent(line):
    """The log of the processes other than rank 0."""


def train_from_console(args, device, save=None, log=print, world=None):
    """Run ``train`` with the parsed ``args`` on ``device``; save to ``save`` if given.

    ``world`` (default ``get_world()``): the processes training together; only its rank 0
    logs, scores the test users and saves.
    """
    world = get_world() if world is None else world
    log = log if world.is_main else _silent
    world.check_batch(args.batch, "--batch")
    task = make_ranking_task(train_users=args.users, heldout_users=heldout_users(args.users),
                             seed=args.seed)
    manual_seed(args.seed)
    model = DataParallel(ranking_model(args.activation, args.init).to(device), world)
    parallel = (f" data-parallel over {world.size} processes ({args.batch // world.size} rows "
                "each)," if world.size > 1 else "")
    log(f"ranking MLP 128→256→128→64→1, {args.activation}, init={args.init}, {args.optimizer} "
        f"lr={args.lr:g}, batch {args.batch},{parallel} {args.steps} steps, "
        f"{len(task.train):,} training pairs, on {device}")
    epochs = math.ceil(args.steps / math.ceil(len(task.train) / args.batch))
    history = fit(model, task, epochs=epochs, batch_size=args.batch, lr=args.lr,
                  optimizer=args.optimizer, seed=args.seed, device=device, max_steps=args.steps,
                  observer=_StepLog(log, args.steps))
    if world.size > 1:
        log(f"averaging gradients over {world.size} processes took "
            f"{1000 * history.allreduce_seconds / max(history.steps, 1):.2f} ms per step of "
            f"{1000 * history.train_seconds / max(history.steps, 1):.2f}")
    if not world.is_main:
        return
    log(f"trained in {history.train_seconds:.1f} s; compiling kernels took "
        f"{compile_seconds():.1f} s of this run (0 once Numba's disk cache holds them)")
    model = model.module
    test = results_on_test_users(model, task, device)
    mse, mean_mse = test["model"]["mse"], test["predict_the_mean"]["mse"]
    log(f"\ntest MSE {mse:.4f} (predicting the mean: {mean_mse:.4f}), "
        f"{comparison(mse, mean_mse)}")
    log(f"test NDCG@10 {test['model']['ndcg@10']:.3f} (predicting the mean: "
        f"{test['predict_the_mean']['ndcg@10']:.3f}), AUC {test['model']['auc']:.3f} "
        f"(predicting the mean: {test['predict_the_mean']['auc']:.3f})\n")
    with ActivationMonitor(model, warn=False) as monitor, no_grad():
        model(Tensor(task.test.features, device=device))
    log(monitor.report())
    if save:
        model.save(save)
        log(f"\nsaved the weights to {save}")
