"""The fused inference path: latency of every way to run the ranking MLP, and what 16-bit
weights cost in accuracy on the ranking task.

    python -m benchmarks.inference               # latency table, then the accuracy table
    python -m benchmarks.inference --quick       # shorter timings, 2 training epochs
    python -m benchmarks.inference --accuracy    # the accuracy table only

Latency: the contenders take turns in short bursts (``interleaved_min_median``), so load from
elsewhere on a shared machine falls on all of them alike; each row gives the minimum (what the
code costs) and the median (what a caller sees here) per call. Accuracy: the demo's network is
trained as ``tinygrad-edu train`` trains it (Adam, lr 1e-3, batch 256), then the test users are
scored by the float32 model and by its bfloat16 and float16 snapshots.
"""

import argparse
import os
import sys

import numpy as np

if __package__ in (None, ""):   # run as a script: make "benchmarks" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

from tinygrad_edu import Tensor, manual_seed, nn, no_grad, set_backend  # noqa: E402
from tinygrad_edu.apps.metrics import ranking_metrics  # noqa: E402
from tinygrad_edu.apps.ranking import heldout_users, make_ranking_task, ranking_model  # noqa: E402
from tinygrad_edu.apps.training import fit  # noqa: E402

from .numpy_mlp import NumpyMLP  # noqa: E402
from .ranking import RANKING  # noqa: E402
from .timing import interleaved_min_median  # noqa: E402

FORMATS = ("bfloat16", "float16")


def _torch_copy(torch, model):
    layers = []
    for i, layer in enumerate(model.layers):
        lin = torch.nn.Linear(layer.weight.shape[0], layer.weight.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.weight.numpy().T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.bias.numpy()))
        layers += [lin] + ([torch.nn.ReLU()] if i < len(model.layers) - 1 else [])
    return torch.nn.Sequential(*layers).eval()


def latency_contenders(model, x, torch=None):
    """{name: fn} running ``model`` on ``x`` every way there is: the graph, the fused path in
    float32 (with and without ``out=``) and with 16-bit weights, hand-written numpy and
    PyTorch eager. Checks first that the float32 ones agree."""
    fused = model.compile()
    out = np.empty((x.shape[0], 1) if x.ndim == 2 else (1,), np.float32)
    hand = NumpyMLP(RANKING)
    for i, layer in enumerate(model.layers):
        hand.weights[i][...] = layer.weight.numpy()
        hand.biases[i][...] = layer.bias.numpy()
    rows = x if x.ndim == 2 else x[None]
    xt = Tensor(x)

    def graph():
        with no_grad():
            return model(xt)

    contenders = {"graph": graph, "fused": lambda: fused(x),
                  "fused_out": lambda: fused(x, out=out)}
    for name in FORMATS:
        compiled = model.compile(weights=name)
        contenders[f"fused_{name}"] = lambda compiled=compiled: compiled(x)
    contenders["hand_numpy"] = lambda: hand.forward(rows)[0]
    expected = fused(rows)
    assert np.allclose(hand.forward(rows)[0], expected, rtol=1e-4, atol=1e-5)
    if torch is not None:
        tmodel, tx = _torch_copy(torch, model), torch.from_numpy(rows)

        def eager():
            with torch.no_grad():
                return tmodel(tx)
        contenders["torch"] = eager
        assert np.allclose(eager().numpy(), expected, rtol=1e-4, atol=1e-5)
    return contenders


def latency_rows(batches=(1, 32), quick=False, torch=None):
    """One row per batch size: ``{name}_min_us`` and ``{name}_median_us`` per contender."""
    set_backend("numba").matmul_route = "auto"
    manual_seed(0)
    model = nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1])
    rng = np.random.default_rng(2)
    rows = []
    for batch in batches:
        # Batch 1 is one example, shape (128,): how a service scores a single request.
        shape = (RANKING[0],) if batch == 1 else (batch, RANKING[0])
        x = rng.standard_normal(shape).astype(np.float32)
        # Microsecond calls: many rounds, no settling (no BLAS threads in the fused path).
        times = interleaved_min_median(latency_contenders(model, x, torch),
                                       total_time=1.5 if quick else 6.0, rounds=20,
                                       warmup=200, settle=0.0)
        row = {"batch": batch}
        for name, (low, mid) in times.items():
            row[f"{name}_min_us"], row[f"{name}_median_us"] = low * 1e6, mid * 1e6
        rows.append(row)
    return rows


def accuracy_rows(epochs=10, users=1500, seed=0):
    """The test users' MSE, NDCG@10 and AUC of the trained ranking model scored in float32
    and with each 16-bit weight format, and the largest score change against float32."""
    set_backend("numba")
    task = make_ranking_task(train_users=users, heldout_users=heldout_users(users), seed=seed)
    manual_seed(seed)
    model = ranking_model()
    fit(model, task, epochs=epochs, batch_size=256, lr=1e-3, optimizer="adam", seed=seed)
    split, relevant = task.test, task.relevant(task.test)
    exact = model.compile()(split.features)
    rows = []
    for name in ("float32",) + FORMATS:
        scores = exact if name == "float32" else model.compile(weights=name)(split.features)
        metrics = ranking_metrics(scores, split.targets, relevant, split.users)
        rows.append({"weights": name, **metrics,
                     "max_abs_change": float(np.abs(scores - exact).max()),
                     "mean_abs_change": float(np.abs(scores - exact).mean())})
    return rows


def print_rows(rows, columns):
    cells = [[h for h, _, _ in columns]] + [
        [("-" if row.get(k) is None else f.format(row[k])) for _, k, f in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for i, r in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


LATENCY_NAMES = (("graph", "graph"), ("fused f32", "fused"), ("f32 out=", "fused_out"),
                 ("bf16", "fused_bfloat16"), ("fp16", "fused_float16"),
                 ("hand numpy", "hand_numpy"), ("torch", "torch"))


def _latency_table(rows):
    for row in rows:
        for _, key in LATENCY_NAMES:
            if f"{key}_min_us" in row:
                row[f"{key}_pair"] = f"{row[f'{key}_min_us']:.2f} / {row[f'{key}_median_us']:.2f}"
    print_rows(rows, [("batch", "batch", "{}")] + [(label, f"{key}_pair", "{}")
                                                    for label, key in LATENCY_NAMES])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--accuracy", action="store_true", help="the accuracy table only")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}")
    if not args.accuracy:
        try:
            import torch
            torch.set_num_threads(1)
        except ImportError:
            torch = None
        print("ranking MLP 128-256-128-64-1 inference, µs per call, min / median")
        _latency_table(latency_rows(quick=args.quick, torch=torch))
    epochs = args.epochs or (2 if args.quick else 10)
    print(f"\naccuracy on the test users after {epochs} epochs (float32 training; scores by "
          "the compiled snapshot)")
    print_rows(accuracy_rows(epochs=epochs),
               [("weights", "weights", "{}"), ("MSE", "mse", "{:.5f}"),
                ("NDCG@10", "ndcg@10", "{:.5f}"), ("AUC", "auc", "{:.5f}"),
                ("max |Δscore|", "max_abs_change", "{:.2e}"),
                ("mean |Δscore|", "mean_abs_change", "{:.2e}")])
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
