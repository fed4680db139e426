"""Cold start: the first ranking-MLP training step in a fresh process with an empty Numba cache.

Each run is a new Python process with ``NUMBA_CACHE_DIR`` pointing at a new empty folder, so
every kernel the step needs is compiled; a second process on the same folder then shows the
cached start. The child reports, in seconds: importing tinygrad_edu, the first step at each
batch size of the case (forward, MSE, backward, SGD; Numba compiles inside it), the whole
process from start to the end of those steps, and, when the tree has it, the compile time
Numba itself reported (``kernels.cpu.compile_seconds()``).

    python -m benchmarks.coldstart                   # the installed tree
    python -m benchmarks.coldstart --baseline DIR    # and a checkout at DIR, runs alternating

Cases: ``256`` (the first step of ``tinygrad-edu train``, batch 256) and ``1,256`` (an epoch's
remainder of one example as well, which takes the single-example kernels). The runs of the
two trees alternate, so load from elsewhere falls on both; the table gives min and median.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

__all__ = ["CASES", "cold_start_family"]

CASES = ("256", "1,256")
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))

# The child. A source tree is imported the way the engine comparison imports it
# (``engine_worker.import_tree``: its root on the package's search path from the start, and
# without the editable install's finder); the child runs in benchmarks/, where it finds it.
_CHILD = r"""
import json, sys, time
start = time.perf_counter()
tree, batches = sys.argv[1], [int(b) for b in sys.argv[2].split(",")]
if tree:
    from engine_worker import import_tree
    tg = import_tree(tree)
    assert tg.__file__.startswith(tree), tg.__file__
else:
    import tinygrad_edu as tg
import numpy as np
from tinygrad_edu.nn import functional as F
imported = time.perf_counter()
tg.set_backend("numba")
tg.manual_seed(0)
model = tg.nn.MLP(128, [256, 128, 64], 1)
opt = tg.optim.SGD(model.parameters(), lr=1e-3)
rng = np.random.default_rng(0)
steps = {}
for batch in batches:
    x = tg.Tensor(rng.standard_normal((batch, 128)).astype(np.float32))
    y = tg.Tensor(rng.standard_normal((batch, 1)).astype(np.float32))
    t0 = time.perf_counter()
    opt.zero_grad()
    F.mse_loss(model(x), y).backward()
    opt.step()
    steps[batch] = time.perf_counter() - t0
end = time.perf_counter()
try:
    from tinygrad_edu.kernels.cpu import compile_seconds
    compiled = compile_seconds()
except ImportError:
    compiled = None
kernels = sys.modules["tinygrad_edu.kernels.cpu.matmul"].__file__
assert not tree or kernels.startswith(tree), kernels
print(json.dumps({"import_s": imported - start, "steps_s": steps, "total_s": end - start,
                  "cpu_s": time.process_time(), "compile_s": compiled}))
"""


def _run_child(tree, case, cache_dir):
    """One fresh process on ``cache_dir``; its JSON report plus the wall time seen from here."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _CHILD, tree or "", case],
                         env=env, capture_output=True, text=True, cwd=BENCH_DIR, check=False)
    if out.returncode:
        raise RuntimeError(f"cold-start child ({tree or 'installed'}, {case}) failed:\n"
                           f"{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_start_family(quick, baseline=None, repeats=None):
    """Rows ``{"case", "tree", "<field>_min", "<field>_median"}`` for each case and tree, the
    fields being ``first_step_s`` (sum of the case's first steps), ``total_s`` (process start
    to the end of them), ``compile_s`` and ``cached_total_s`` (the same in a second process on
    the now filled cache)."""
    repeats = repeats or (1 if quick else 3)
    trees = [("after", None)] + ([("before", baseline)] if baseline else [])
    samples = {(case, label): [] for case in CASES for label, _ in trees}
    for _ in range(repeats):
        for case in CASES:
            for label, tree in trees:
                with tempfile.TemporaryDirectory(prefix="tg-coldstart-") as cache:
                    cold = _run_child(tree, case, cache)
                    warm = _run_child(tree, case, cache)
                samples[case, label].append({
                    "first_step_s": sum(cold["steps_s"].values()), "total_s": cold["total_s"],
                    "compile_s": cold["compile_s"], "cached_total_s": warm["total_s"]})
    rows = []
    for (case, label), runs in samples.items():
        row = {"case": f"batch {case.replace(',', ' then ')}", "tree": label}
        for field in runs[0]:
            values = [r[field] for r in runs if r[field] is not None]
            if values:
                row[f"{field}_min"] = float(np.min(values))
                row[f"{field}_median"] = float(np.median(values))
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--baseline", metavar="DIR", help="another tinygrad_edu checkout")
    args = parser.parse_args(argv)
    baseline = os.path.realpath(args.baseline) if args.baseline else None
    print(f"load average {os.getloadavg()[0]:.2f}")
    for row in cold_start_family(args.quick, baseline, args.repeats):
        print(json.dumps(row))
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
