"""The five benchmark families of issue 5. Each returns a list of rows (dicts) for run.py.

Every timing is a median over many runs (``timing.median_seconds``); all variants of one row
are measured in the same process, one after the other, on the same data.
"""

import numpy as np

from tinygrad_edu import Tensor, manual_seed, nn, no_grad, optim, set_backend
from tinygrad_edu.kernels import matmul as mm
from tinygrad_edu.nn import functional as F
from tinygrad_edu.numpy_backend import NumpyBackend

from .numpy_mlp import NumpyMLP
from .timing import median_seconds

RANKING = [128, 256, 128, 64, 1]          # the textbook's ranking network
PARAMS = sum(a * b for a, b in zip(RANKING[:-1], RANKING[1:]))


def train_flops(batch):
    """Multiply-add work of one training step, x2: forward, dW, and dX except the input's."""
    return 2 * batch * (3 * PARAMS - RANKING[0] * RANKING[1])


def _torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


# ---- 1. matmul ----
def matmul_family(sizes, quick):
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        out = np.empty((n, n), np.float32)
        t = 0.2 if quick else 0.6
        numba_s = median_seconds(lambda: mm.gemm(a, b, out, route="numba"), min_time=t)
        blas_s = median_seconds(lambda: np.matmul(a, b, out=out), min_time=t)
        flop = 2 * n ** 3
        rows.append({"n": n, "numba_gflops": flop / numba_s / 1e9,
                     "blas_gflops": flop / blas_s / 1e9, "numba_over_blas": blas_s / numba_s})
    return rows


# ---- 2. the fused layer ----
def layer_family(batch, quick):
    from tinygrad_edu.kernels.cpu import NumbaBackend

    rows = []
    rng = np.random.default_rng(1)
    unfused, fused_auto, fused_numba = NumpyBackend(), NumbaBackend(), NumbaBackend("numba")
    for nin, nout in zip(RANKING[:-1], RANKING[1:]):
        x = rng.standard_normal((batch, nin)).astype(np.float32)
        w = (rng.standard_normal((nin, nout)) / np.sqrt(nin)).astype(np.float32)
        b = rng.standard_normal(nout).astype(np.float32)
        g = rng.standard_normal((batch, nout)).astype(np.float32)
        row = {"shape": f"{batch}x{nin}->{nout}"}
        for label, be in (("numpy", unfused), ("numba", fused_auto), ("numba_tiled", fused_numba)):
            def fwd(be=be):
                return be.linear_act_forward(x, w, b, 1, 0.0)

            def fwd_bwd(be=be):
                y, z = be.linear_act_forward(x, w, b, 1, 0.0)
                be.linear_act_backward(x, w, z, y, g, 1, 0.0, True)

            t = 0.15 if quick else 0.4
            row[f"{label}_fwd_us"] = median_seconds(fwd, min_time=t) * 1e6
            row[f"{label}_fwdbwd_us"] = median_seconds(fwd_bwd, min_time=t) * 1e6
        rows.append(row)
    return rows


# ---- 3. training step ----
def _engine_step(batch):
    """A training step of the engine on whichever backend is selected when it runs."""
    manual_seed(0)
    model = nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1])
    opt = optim.SGD(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, RANKING[0])).astype(np.float32))
    y = Tensor(rng.standard_normal((batch, 1)).astype(np.float32))

    def step():
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    return step


def _torch_step(torch, batch):
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(RANKING[:-1], RANKING[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(RANKING) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, RANKING[0]), torch.randn(batch, 1)

    def step():
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return step


def training_family(batches, threads, quick):
    torch = _torch(threads)
    rows = []
    rng = np.random.default_rng(0)
    for batch in batches:
        x = rng.standard_normal((batch, RANKING[0])).astype(np.float32)
        y = rng.standard_normal((batch, 1)).astype(np.float32)
        hand = NumpyMLP(RANKING)
        steps = {"hand_numpy": lambda: hand.train_step(x, y, 1e-3),
                 "numpy_backend": _engine_step(batch),
                 "numba_backend": _engine_step(batch),
                 "numba_tiled": _engine_step(batch)}
        if torch is not None:
            steps["torch"] = _torch_step(torch, batch)
        row = {"batch": batch}
        for name, step in steps.items():
            if name.startswith("numba"):
                set_backend("numba").matmul_route = "auto" if name == "numba_backend" else "numba"
            elif name == "numpy_backend":
                set_backend("numpy")
            seconds = median_seconds(step, min_time=0.3 if quick else 1.0)
            row[f"{name}_us"] = seconds * 1e6
            row[f"{name}_examples_per_s"] = batch / seconds
            row[f"{name}_gflops"] = train_flops(batch) / seconds / 1e9
        set_backend("numba").matmul_route = "auto"
        rows.append(row)
    return rows


# ---- 4. inference latency ----
def inference_family(batches, threads, quick):
    torch = _torch(threads)
    set_backend("numba").matmul_route = "auto"
    manual_seed(0)
    model = nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1])
    compiled = model.compile()
    hand = NumpyMLP(RANKING)
    for i, layer in enumerate(model.layers):
        hand.weights[i][...] = layer.weight.numpy()
        hand.biases[i][...] = layer.bias.numpy()
    tmodel = None
    if torch is not None:
        layers = []
        for i, layer in enumerate(model.layers):
            lin = torch.nn.Linear(layer.weight.shape[0], layer.weight.shape[1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.weight.numpy().T.copy()))
                lin.bias.copy_(torch.from_numpy(layer.bias.numpy()))
            layers += [lin] + ([torch.nn.ReLU()] if i < len(model.layers) - 1 else [])
        tmodel = torch.nn.Sequential(*layers).eval()
    rows = []
    rng = np.random.default_rng(2)
    for batch in batches:
        x = rng.standard_normal((batch, RANKING[0])).astype(np.float32)
        xt = Tensor(x)
        row = {"batch": batch}

        def graph():
            with no_grad():
                return model(xt)
        t = 0.3 if quick else 1.0
        row["graph_us"] = median_seconds(graph, min_time=t) * 1e6
        row["fused_us"] = median_seconds(lambda: compiled(x), min_time=t) * 1e6
        row["hand_numpy_us"] = median_seconds(lambda: hand.forward(x)[0], min_time=t) * 1e6
        if tmodel is not None:
            tx = torch.from_numpy(x)

            def eager():
                with torch.no_grad():
                    return tmodel(tx)
            row["torch_us"] = median_seconds(eager, min_time=t) * 1e6
            assert np.allclose(eager().numpy(), compiled(x), rtol=1e-4, atol=1e-5)
        rows.append(row)
    return rows


# ---- 5. the scalar Value engine ----
def value_family(quick):
    """One SGD step on one example through a 2-16-16-1 ReLU MLP of scalar Values, ours and
    micrograd's. Both step over a parameter list made once, so the engines (forward graph
    building and backward) are measured, not the modules' parameter traversal."""
    from tinygrad_edu.nn import scalar

    manual_seed(0)
    ours = scalar.MLP(2, [16, 16], 1)
    x, target = [0.5, -1.5], 0.25

    def sgd_step(model, params, out):
        loss = (out - target) ** 2
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 1e-3 * p.grad

    params = ours.parameters()
    t = 0.3 if quick else 1.0
    row = {"model": "2-16-16-1, one example",
           "tinygrad_edu_us": median_seconds(lambda: sgd_step(ours, params, ours(x)[0]),
                                             min_time=t) * 1e6}
    try:
        from micrograd import nn as mg_nn
    except ImportError:
        return [row]
    import random
    random.seed(0)
    theirs = mg_nn.MLP(2, [16, 16, 1])
    their_params = theirs.parameters()
    row["micrograd_us"] = median_seconds(lambda: sgd_step(theirs, their_params, theirs(x)),
                                         min_time=t) * 1e6
    row["speedup"] = row["micrograd_us"] / row["tinygrad_edu_us"]
    return [row]
