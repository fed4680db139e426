"""``tinygrad-edu train``: the demo's network and data, trained by steps, reported in the console.

It prints the loss every 100 steps, then the test users' error and ranking metrics against
predicting the mean, and the activation monitor's table of every layer; ``--save`` writes the
weights. ``tinygrad-edu demo`` is the same job with plots, a report page and latency.
"""

import math

from ..check.diagnostics import ActivationMonitor
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


def train_from_console(args, device, save=None, log=print):
    """Run ``train`` with the parsed ``args`` on ``device``; save to ``save`` if given."""
    task = make_ranking_task(train_users=args.users, heldout_users=heldout_users(args.users),
                             seed=args.seed)
    manual_seed(args.seed)
    model = ranking_model(args.activation, args.init).to(device)
    log(f"ranking MLP 128→256→128→64→1, {args.activation}, init={args.init}, {args.optimizer} "
        f"lr={args.lr:g}, batch {args.batch}, {args.steps} steps, {len(task.train):,} training "
        f"pairs, on {device}")
    epochs = math.ceil(args.steps / math.ceil(len(task.train) / args.batch))
    fit(model, task, epochs=epochs, batch_size=args.batch, lr=args.lr, optimizer=args.optimizer,
        seed=args.seed, device=device, max_steps=args.steps,
        observer=_StepLog(log, args.steps))
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
