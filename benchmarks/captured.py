"""The captured training step (``tinygrad_edu.capture``) against the eager one, hand numpy and
PyTorch: the ranking MLP 128-256-128-64-1 (ReLU, MSE, SGD), min and median per step.

    python -m benchmarks.run --only captured            # the table, with the other families
    python -m benchmarks.captured --steps 200 --mode captured --backend numpy
        # N steps after the warm-up and nothing else: run it under
        # valgrind --tool=callgrind for N and for 0 steps; the difference over N is the
        # instruction count per step (which load on the machine does not change)

Contenders take turns in short bursts on the same data, each burst led by untimed calls (see
``timing.interleaved_medians``: BLAS and OpenMP threads of the previous contender must go
quiet first).
"""

import argparse
import os
import sys

import numpy as np

if __package__ in (None, ""):   # run as a script: make "benchmarks" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

from tinygrad_edu import Tensor, capture, manual_seed, nn, optim, set_backend  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402

from benchmarks.numpy_mlp import NumpyMLP  # noqa: E402
from benchmarks.ranking import RANKING, train_flops  # noqa: E402
from benchmarks.timing import interleaved_min_median, sgemm_call  # noqa: E402
from benchmarks.torch_mlp import torch_train_step, torch_with_threads  # noqa: E402

SGEMM_N = 2048          # the square product of the "% of sgemm" columns
SGEMM_FROM_BATCH = 256  # the batches whose rows get them
__all__ = ["engine_step", "products_step", "training_contenders", "captured_family"]


def engine_step(batch, captured=False, flat=False):
    """One training step of the engine on the selected backend, as a no-argument function."""
    manual_seed(0)
    model = nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1])
    opt = optim.SGD(model.parameters(), lr=1e-3, flat=flat)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, RANKING[0])).astype(np.float32))
    y = Tensor(rng.standard_normal((batch, 1)).astype(np.float32))

    def train_step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = capture(train_step) if captured else train_step
    return lambda: step(x, y)


def products_step(batch):
    """The matrix products of one training step alone, run by the kernels exactly as the
    Numba backend runs them (route, orientation and all) and nothing else: no bias, no
    activation or its derivative, no loss, no optimizer. The floor the elementwise work of a
    step sits on, and so the most a step can reach of sgemm with these products."""
    from tinygrad_edu.kernels.cpu import fused

    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((nin, nout)).astype(np.float32)
               for nin, nout in zip(RANKING[:-1], RANKING[1:])]
    x = rng.standard_normal((batch, RANKING[0])).astype(np.float32)
    grads = [rng.standard_normal((batch, n)).astype(np.float32) for n in RANKING[1:]]

    def step():
        inputs = [x]
        for w in weights:
            inputs.append(fused.linear_act_forward(inputs[-1], w, None, 0, 0.0)[0])
        for i in reversed(range(len(weights))):
            out = inputs[i + 1]
            fused.linear_act_backward(inputs[i], weights[i], out, out, grads[i], 0, 0.0, False,
                                      needs_x=i > 0)
    return step


def _numba():
    set_backend("numba").matmul_route = "auto"


def training_contenders(batch):
    """The captured steps as contenders of the training family (setup, step) on Numba, and
    the step's products alone (``products_step``)."""
    return {"captured": (_numba, engine_step(batch, captured=True)),
            "captured_flat": (_numba, engine_step(batch, captured=True, flat=True)),
            "products_only": (_numba, products_step(batch))}


def captured_family(batches, threads, quick):
    """One row per batch: min and median µs of each contender, and ratios to hand numpy; from
    ``SGEMM_FROM_BATCH``, each step's minimum as a % of the sgemm's timed beside it."""
    rows = []
    rng = np.random.default_rng(0)
    for batch in batches:
        x = rng.standard_normal((batch, RANKING[0])).astype(np.float32)
        y = rng.standard_normal((batch, 1)).astype(np.float32)
        hand = NumpyMLP(RANKING)
        contenders = {"hand_numpy": (lambda: None, lambda: hand.train_step(x, y, 1e-3)),
                      "eager": (_numba, engine_step(batch)),
                      "eager_flat": (_numba, engine_step(batch, flat=True)),
                      **training_contenders(batch)}
        torch = torch_with_threads(threads)
        if torch is not None:
            contenders["torch"] = (lambda: None, torch_train_step(torch, batch, RANKING))
        if batch >= SGEMM_FROM_BATCH:
            # the peak "% of sgemm" divides by, timed in the same bursts as the steps, so that
            # both minimums come from the same moments of a shared machine
            contenders["sgemm"] = (lambda: None, sgemm_call(SGEMM_N, np.random.default_rng(1)))
        times = interleaved_min_median(contenders, total_time=2.0 if quick else 8.0, rounds=8,
                                       warmup=5)
        row = {"batch": batch, "load_average": os.getloadavg()[0]}
        for name, (low, mid) in times.items():
            row[f"{name}_min_us"], row[f"{name}_med_us"] = low * 1e6, mid * 1e6
        for name in times:
            for stat in ("min", "med"):
                row[f"{name}_{stat}_vs_hand"] = row[f"{name}_{stat}_us"] / \
                    row[f"hand_numpy_{stat}_us"]
        if "sgemm" in times:
            peak = 2 * SGEMM_N ** 3 / times["sgemm"][0]
            row["sgemm_min_gflops"] = peak / 1e9
            for name in ("hand_numpy", "captured", "captured_flat", "products_only"):
                row[f"{name}_pct_sgemm_min"] = 100 * train_flops(batch) / times[name][0] / peak
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description="run N training steps (for callgrind)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--mode", choices=("eager", "captured", "captured_flat", "hand"),
                        default="captured")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args(argv)
    if args.mode == "hand":
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, RANKING[0])).astype(np.float32)
        y = rng.standard_normal((args.batch, 1)).astype(np.float32)
        hand = NumpyMLP(RANKING)
        step = lambda: hand.train_step(x, y, 1e-3)  # noqa: E731
    else:
        set_backend(args.backend)
        step = engine_step(args.batch, captured=args.mode != "eager",
                           flat=args.mode == "captured_flat")
    for _ in range(5):   # warm-up, and the two recorded calls of a captured step
        step()
    for _ in range(args.steps):
        step()


if __name__ == "__main__":
    main()
