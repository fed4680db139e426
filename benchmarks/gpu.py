"""The CUDA backend on a real GPU, in one run of a few minutes:

    python benchmarks/gpu.py            # tests, then matmul, training and inference timings
    python benchmarks/gpu.py --quick    # fewer sizes and shorter timings
    python benchmarks/gpu.py --skip-tests

1. the CUDA correctness cases for real (``tests/kernels/cuda/simulator/sim_*.py``: every
   primitive against the numpy reference, training steps against the CPU, a training step that
   copies nothing between host and device) and the coverage test;
2. float32 matmul GFLOP/s at n = 1024..8192, our tiled kernel against cuBLAS (through PyTorch,
   or CuPy when PyTorch has no CUDA);
3. the ranking MLP's training step (128-256-128-64-1, ReLU, MSE, SGD) at batch 256..8192 on
   the GPU, beside PyTorch CUDA and our CPU backend on this machine, with the host copies per
   step;
4. the ranking MLP's inference latency at batch 1, 32 and 1024 (no_grad, synchronized).

Prints a table per part and writes JSON to benchmarks/results/gpu-*.json. Targets (issue 9):
our matmul >= 25% of cuBLAS at 4096; the training step at batch 4096 >= 10x faster than the CPU
backend on the 2-core development machine (README: Numba backend); no host copy in a step.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:   # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from tinygrad_edu import Tensor, devices, manual_seed, nn, no_grad, optim  # noqa: E402
from tinygrad_edu.backends import get_backend  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402

from benchmarks.ranking import RANKING, train_flops  # noqa: E402


def _seconds(fn, sync, min_time, min_runs=5, warmup=2):
    """Median wall time of ``fn()`` followed by ``sync()`` (the GPU finished), after untimed
    warm-up calls (compilation, the buffer cache, cuBLAS's heuristics)."""
    for _ in range(warmup):
        fn()
    sync()
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _table(title, rows, columns):
    print(f"\n{title}")
    cells = [[h for h, _, _ in columns]] + [
        ["-" if row.get(key) is None else fmt.format(row[key]) for _, key, fmt in columns]
        for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for i, r in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def run_tests():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
               "python_files=sim_*.py test_*.py", "tests/kernels/cuda/simulator",
               "tests/kernels/cuda/test_cuda_coverage.py"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    print("\n1. CUDA tests on the GPU: " + (lines[-1] if lines else result.stderr.strip()))
    if result.returncode:
        print(result.stdout[-4000:])
    return {"returncode": result.returncode, "summary": lines[-1] if lines else "",
            "seconds": time.perf_counter() - start}


def matmul_rows(sizes, min_time):
    from numba import cuda

    backend, torch = get_backend("cuda"), _torch_cuda()
    rows = []
    for n in sizes:
        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        da, db = backend.asarray(a, a.dtype), backend.asarray(b, b.dtype)
        ours = _seconds(lambda: backend.matmul(da, db), cuda.synchronize, min_time)
        row = {"n": n, "ours_gflops": 2 * n ** 3 / ours / 1e9}
        if torch is not None:
            ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
            torch.backends.cuda.matmul.allow_tf32 = False   # plain float32, as ours
            seconds = _seconds(lambda: ta @ tb, torch.cuda.synchronize, min_time)
            row["cublas_gflops"], row["library"] = 2 * n ** 3 / seconds / 1e9, "torch"
        else:
            try:
                import cupy
            except ImportError:
                cupy = None
            if cupy is not None:
                ca, cb = cupy.asarray(a), cupy.asarray(b)
                seconds = _seconds(lambda: ca @ cb, cupy.cuda.Device().synchronize, min_time)
                row["cublas_gflops"], row["library"] = 2 * n ** 3 / seconds / 1e9, "cupy"
        if row.get("cublas_gflops"):
            row["ours_vs_cublas"] = row["ours_gflops"] / row["cublas_gflops"]
        rows.append(row)
    return rows


def _engine_step(device, batch):
    manual_seed(0)
    model = nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1]).to(device)
    opt = optim.SGD(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, RANKING[0])).astype(np.float32), device=device)
    y = Tensor(rng.standard_normal((batch, 1)).astype(np.float32), device=device)

    def step():
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    return step, model, x


def _torch_model(torch):
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(RANKING[:-1], RANKING[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(RANKING) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).cuda()


def training_rows(batches, cpu_batches, min_time):
    from numba import cuda

    torch, transfers = _torch_cuda(), get_backend("cuda").transfers
    rows = []
    for batch in batches:
        step, _, _ = _engine_step("cuda", batch)
        ours = _seconds(step, cuda.synchronize, min_time)
        transfers.reset()
        for _ in range(10):
            step()
        cuda.synchronize()
        row = {"batch": batch, "cuda_us": ours * 1e6,
               "cuda_gflops": train_flops(batch) / ours / 1e9,
               "copies_per_step": (transfers.uploads + transfers.downloads) / 10}
        if torch is not None:
            model = _torch_model(torch)
            opt = torch.optim.SGD(model.parameters(), lr=1e-3)
            x, y = torch.randn(batch, RANKING[0]).cuda(), torch.randn(batch, 1).cuda()

            def torch_step():
                opt.zero_grad()
                torch.nn.functional.mse_loss(model(x), y).backward()
                opt.step()
            row["torch_us"] = _seconds(torch_step, torch.cuda.synchronize, min_time) * 1e6
        if batch in cpu_batches:
            cpu_step, _, _ = _engine_step("cpu", batch)
            row["cpu_us"] = _seconds(cpu_step, lambda: None, min_time) * 1e6
            row["cpu_vs_cuda"] = row["cpu_us"] / row["cuda_us"]
        rows.append(row)
    return rows


def inference_rows(batches, min_time):
    from numba import cuda

    torch = _torch_cuda()
    rows = []
    for batch in batches:
        _, model, x = _engine_step("cuda", batch)

        def forward():
            with no_grad():
                model(x)
        row = {"batch": batch, "cuda_us": _seconds(forward, cuda.synchronize, min_time) * 1e6}
        if torch is not None:
            tmodel = _torch_model(torch).eval()
            tx = torch.randn(batch, RANKING[0]).cuda()

            def torch_forward():
                with torch.no_grad():
                    tmodel(tx)
            row["torch_us"] = _seconds(torch_forward, torch.cuda.synchronize, min_time) * 1e6
            row["torch_vs_cuda"] = row["torch_us"] / row["cuda_us"]
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, shorter timings")
    parser.add_argument("--skip-tests", action="store_true", help="timings only")
    args = parser.parse_args(argv)
    (cuda_line,) = [str(d) for d in devices() if d.name == "cuda"]
    if "unavailable" in cuda_line:
        print(f"benchmarks/gpu.py needs a CUDA GPU here: {cuda_line}")
        return 2
    from numba import cuda

    gpu = cuda.get_current_device()
    report = {"gpu": gpu.name.decode() if isinstance(gpu.name, bytes) else str(gpu.name),
              "compute_capability": list(gpu.compute_capability),
              "torch_cuda": _torch_cuda() is not None, "quick": args.quick}
    print(f"GPU: {report['gpu']} (compute capability {gpu.compute_capability[0]}."
          f"{gpu.compute_capability[1]}); PyTorch CUDA: {report['torch_cuda']}")
    min_time = 0.2 if args.quick else 1.0
    if not args.skip_tests:
        report["tests"] = run_tests()
    sizes = (1024, 4096) if args.quick else (1024, 2048, 4096, 8192)
    report["matmul"] = matmul_rows(sizes, min_time)
    _table("2. float32 matmul, GFLOP/s", report["matmul"],
           [("n", "n", "{}"), ("ours", "ours_gflops", "{:.0f}"),
            ("cuBLAS", "cublas_gflops", "{:.0f}"), ("ours/cuBLAS", "ours_vs_cublas", "{:.2f}")])
    batches = (256, 4096) if args.quick else (256, 1024, 4096, 8192)
    report["training"] = training_rows(batches, {256, 4096}, min_time)
    _table("3. ranking MLP training step (SGD), us per step", report["training"],
           [("batch", "batch", "{}"), ("cuda", "cuda_us", "{:.0f}"),
            ("PyTorch CUDA", "torch_us", "{:.0f}"), ("our CPU backend", "cpu_us", "{:.0f}"),
            ("CPU/cuda", "cpu_vs_cuda", "{:.1f}"), ("GFLOP/s", "cuda_gflops", "{:.0f}"),
            ("host copies/step", "copies_per_step", "{:.2f}")])
    report["inference"] = inference_rows((1, 32, 1024), min_time)
    _table("4. ranking MLP inference latency, us per call", report["inference"],
           [("batch", "batch", "{}"), ("cuda", "cuda_us", "{:.0f}"),
            ("PyTorch CUDA", "torch_us", "{:.0f}"), ("PyTorch/cuda", "torch_vs_cuda", "{:.2f}")])
    out = ROOT / "benchmarks" / "results" / time.strftime("gpu-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out}")
    return 1 if report.get("tests", {}).get("returncode") else 0


if __name__ == "__main__":
    sys.exit(main())
