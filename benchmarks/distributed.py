"""Data-parallel training on MPI: examples per second of the ranking MLP at a fixed global batch
for 1, 2 and 4 processes, and what the gradient averaging costs per step.

    python -m benchmarks.distributed            # 3 rounds of every configuration
    python -m benchmarks.distributed --quick    # 1 round, fewer steps
    python -m benchmarks.run --only distributed

Each configuration is one ``mpiexec -n P`` launch of this module as a worker (``--worker``):
every process builds the 128→256→128→64→1 network (74,241 float32 parameters), wraps it in
``DataParallel`` and runs ``apps.training.train_step`` on its ``batch / P`` rows of every global
batch; rank 0 times each step, the time spent in ``average_gradients`` (packing, the one
``Allreduce``, writing back, and any wait for a slower process) and, separately, a bare
``Allreduce`` of the same buffer right after a barrier (the transfer alone). The
configurations take turns round by round, so load from elsewhere falls on all of them.
Threads per process are pinned with OMP/OPENBLAS/NUMBA_NUM_THREADS.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

if __package__ in (None, ""):   # run as a script: make "benchmarks" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

from tinygrad_edu import manual_seed  # noqa: E402
from tinygrad_edu.apps.ranking import make_ranking_task, ranking_model  # noqa: E402
from tinygrad_edu.apps.training import make_optimizer, train_step  # noqa: E402
from tinygrad_edu.distributed import DataParallel, get_world  # noqa: E402

# (processes, threads per process): one process with both cores, then one core per process;
# 4 processes put two on each of this machine's 2 cores.
CONFIGS = ((1, 2), (1, 1), (2, 1), (4, 1))
USERS = 400                 # 12,800 training pairs: 50 steps of 256 per epoch
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
                     "MKL_NUM_THREADS")


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else "mpiexec"


def worker(batch, steps, warmup):
    """Run in each process of a launch; rank 0 prints one JSON line of timings."""
    world = get_world()
    task = make_ranking_task(train_users=USERS, heldout_users=10, seed=0)
    manual_seed(0)
    model = DataParallel(ranking_model(), world)
    opt = make_optimizer("sgd", model.parameters(), 0.01)
    order = np.random.default_rng(0).permutation(len(task.train))
    features, targets = task.train.features, task.train.targets
    per_epoch = len(task.train) // batch
    step_times, sync_times = [], []
    for step in range(warmup + steps):
        start = (step % per_epoch) * batch
        rows = order[start:start + batch]
        synced = model.allreduce_seconds
        t0 = time.perf_counter()
        train_step(model, opt, features, targets, rows)
        if step >= warmup:
            step_times.append(time.perf_counter() - t0)
            sync_times.append(model.allreduce_seconds - synced)
    buffer = np.zeros(sum(p.numel() for p in model.parameters()) + 1, np.float32)
    bare = []
    for _ in range(50 if world.size > 1 else 0):
        world.barrier()
        t0 = time.perf_counter()
        world.allreduce_sum_(buffer)
        bare.append(time.perf_counter() - t0)
    if world.is_main:
        print(json.dumps({"processes": world.size, "step_s": step_times, "sync_s": sync_times,
                          "allreduce_s": bare, "floats": int(buffer.size)}))


def _launch(processes, threads, batch, steps, warmup):
    env = {**os.environ, **{name: str(threads) for name in _THREAD_VARIABLES}}
    command = [_mpiexec(), "-n", str(processes), sys.executable, "-m", "benchmarks.distributed",
               "--worker", "--batch", str(batch), "--steps", str(steps), "--warmup",
               str(warmup)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def distributed_family(quick, batch=256, configs=CONFIGS):
    """One row per (processes, threads): step time min/median over all rounds, examples per
    second at the median and at the best step (and both against the first row), the step's time outside and inside ``average_gradients`` (medians) and a
    bare ``Allreduce``'s."""
    rounds, steps = (1, 30) if quick else (3, 60)
    samples = {config: {"step_s": [], "sync_s": [], "allreduce_s": []} for config in configs}
    for _ in range(rounds):
        for config in configs:
            result = _launch(*config, batch, steps, warmup=5)
            for key in samples[config]:
                samples[config][key] += result[key]
    rows, base = [], None
    for (processes, threads), got in samples.items():
        step = np.array(got["step_s"])
        row = {"processes": processes, "threads": threads, "batch": batch,
               "per_process": batch // processes,
               "step_min_ms": 1e3 * step.min(), "step_median_ms": 1e3 * np.median(step),
               "examples_per_s": batch / np.median(step),
               "best_examples_per_s": batch / step.min(),
               "compute_median_ms": 1e3 * np.median(step - np.array(got["sync_s"])),
               "sync_median_ms": 1e3 * np.median(got["sync_s"]),
               "allreduce_min_ms": 1e3 * min(got["allreduce_s"]) if got["allreduce_s"] else None,
               "allreduce_median_ms": (1e3 * np.median(got["allreduce_s"])
                                       if got["allreduce_s"] else None)}
        base = base or (row["examples_per_s"], row["best_examples_per_s"])
        row["speedup"] = row["examples_per_s"] / base[0]
        row["best_speedup"] = row["best_examples_per_s"] / base[1]
        rows.append(row)
    return rows


COLUMNS = [("processes", "processes", "{}"), ("threads each", "threads", "{}"),
           ("rows each", "per_process", "{}"), ("step min ms", "step_min_ms", "{:.2f}"),
           ("step med ms", "step_median_ms", "{:.2f}"),
           ("examples/s med", "examples_per_s", "{:.0f}"), ("vs first", "speedup", "{:.2f}"),
           ("examples/s best", "best_examples_per_s", "{:.0f}"),
           ("vs first", "best_speedup", "{:.2f}"),
           ("rest med ms", "compute_median_ms", "{:.2f}"),
           ("avg grads med ms", "sync_median_ms", "{:.2f}"),
           ("allreduce min ms", "allreduce_min_ms", "{:.3f}"),
           ("allreduce med ms", "allreduce_median_ms", "{:.3f}")]


def print_table(rows):
    cells = [[h for h, _, _ in COLUMNS]] + [
        ["-" if row.get(k) is None else f.format(row[k]) for _, k, f in COLUMNS] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    for i, r in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, fewer steps")
    parser.add_argument("--batch", type=int, default=256, help="the global batch")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=60, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.batch, args.steps, args.warmup)
        return
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    rows = distributed_family(args.quick, args.batch)
    print(f"\nranking MLP 128-256-128-64-1, SGD, global batch {args.batch}, data-parallel on "
          "MPI (one Allreduce of 74,242 float32 per step)")
    print_table(rows)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
