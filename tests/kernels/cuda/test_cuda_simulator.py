"""The CUDA backend's correctness cases (``simulator/sim_*.py``: every primitive against the
numpy reference, whole training steps against the CPU, a step with no host transfer) run in
numba's CUDA simulator, so CI checks them without a GPU.

``NUMBA_ENABLE_CUDASIM`` is read when numba.cuda is first imported, so the cases run in fresh
interpreters (two at once, one per group of files, since the simulator is bound to one core).
``benchmarks/gpu.py`` runs the same files on a real GPU.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("numba_cuda")

ROOT = Path(__file__).resolve().parents[3]
CASES = Path(__file__).resolve().parent / "simulator"
GROUPS = [["sim_linear.py", "sim_primitives.py", "sim_state.py"],
          ["sim_reduce_index.py", "sim_training.py", "sim_properties.py", "sim_capture.py"]]
# The simulator evaluates kernels on numpy scalars, which warn where a GPU silently gives
# inf or nan (division by zero, inf - inf).
QUIET = ["-W", "ignore:divide by zero encountered:RuntimeWarning",
         "-W", "ignore:invalid value encountered:RuntimeWarning",
         "-W", "ignore:overflow encountered:RuntimeWarning"]


def test_every_simulator_case_passes():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    start = time.perf_counter()
    runs = [subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "-o", "python_files=sim_*.py", *QUIET,
                              *(str(CASES / name) for name in group)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
            for group in GROUPS]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    print(f"simulator cases: {time.perf_counter() - start:.0f} s")
    for run, output in zip(runs, outputs):
        print(output.strip().splitlines()[-1])
        assert run.returncode == 0, output[-6000:]
