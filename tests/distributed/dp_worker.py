"""What the MPI tests launch: ``mpiexec -n 2 python dp_worker.py MODE OUT``.

- ``train``: ``fit`` a ``DataParallel`` model for a few steps with SGD, then with Adam (a fresh
  model each), from the seeds in ``SETTINGS``. Rank 0 saves the checkpoint of the Adam run
  with ``DataParallel.save`` and writes every step's logged loss, its own final parameters and
  every rank's (gathered) to ``OUT/train.npz``.
- ``bug``: ``tinygrad-edu train`` where rank 0 alone fails (a bug) at the first validation,
  while rank 1 goes on to wait in the next ``Allreduce``: the run must end, not hang.
- ``errors``: rank 1 builds a model with another first layer, and a ``fit`` is asked for a
  global batch that does not split over two processes; each rank writes the messages of the
  errors it got to ``OUT/errors-RANK.json``.

The test (``test_mpi_launch.py``) compares the results with one process's, run in pytest.
"""

import json
import os
import sys

import numpy as np

from tinygrad_edu import manual_seed, nn
from tinygrad_edu.apps import cli, training
from tinygrad_edu.apps.ranking import make_ranking_task
from tinygrad_edu.apps.training import fit
from tinygrad_edu.distributed import DataParallel, get_world

# Tiny on purpose: 2 processes x (8 steps x 2 optimizers) must stay well under a second.
SETTINGS = {"users": 12, "hidden": [16, 8], "batch": 64, "steps": 8, "lr": 0.01, "seed": 4}
OPTIMIZERS = ("sgd", "adam")


def task():
    return make_ranking_task(train_users=SETTINGS["users"], heldout_users=10,
                             seed=SETTINGS["seed"])


def model(hidden=None):
    """The same network on every rank: each draws its weights from the same seed, yet the
    test's ranks also draw different ones (see ``train``) to prove the broadcast."""
    return nn.MLP(128, hidden or SETTINGS["hidden"], 1)


def run_fit(net, optimizer):
    """``fit`` with the test's settings (the epochs cross one reshuffle of the pairs)."""
    return fit(net, task(), epochs=2, batch_size=SETTINGS["batch"], lr=SETTINGS["lr"],
               optimizer=optimizer, seed=SETTINGS["seed"], max_steps=SETTINGS["steps"])


def train(world, out):
    results = {}
    for optimizer in OPTIMIZERS:
        # Rank 1 starts from other weights: DataParallel must replace them by rank 0's.
        manual_seed(SETTINGS["seed"] + world.rank)
        parallel = DataParallel(model(), world)
        history = run_fit(parallel, optimizer)
        state = parallel.state_dict()
        every_rank = world.allgather(state)
        if world.is_main:
            results[f"{optimizer}/losses"] = np.array(history.step_losses)
            results[f"{optimizer}/allreduce_seconds"] = np.array(history.allreduce_seconds)
            for rank, theirs in enumerate(every_rank):
                for name, value in theirs.items():
                    results[f"{optimizer}/rank{rank}/{name}"] = value
    parallel.save(os.path.join(out, "adam-checkpoint.npz"))
    if world.is_main:
        np.savez(os.path.join(out, "train.npz"), **results)


def errors(world, out):
    found = {}
    manual_seed(SETTINGS["seed"])
    try:
        DataParallel(model([17, 8] if world.rank == 1 else None), world)
    except Exception as exc:   # noqa: BLE001 - the test reads the type and the message
        found["mismatch"] = [type(exc).__name__, str(exc)]
    try:
        fit(DataParallel(model(), world), task(), epochs=1, batch_size=33, max_steps=1)
    except Exception as exc:   # noqa: BLE001
        found["batch"] = [type(exc).__name__, str(exc)]
    with open(os.path.join(out, f"errors-{world.rank}.json"), "w", encoding="utf-8") as f:
        json.dump(found, f)


def bug(world, out):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug on rank 0 alone")

    if world.is_main:
        training.evaluate = broken
    sys.exit(cli.main(["train", "--steps", "50", "--batch", "64", "--users", "20"]))


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    {"train": train, "errors": errors, "bug": bug}[mode](get_world(), out)
