"""Every CUDA kernel compiles to PTX for every dtype at compute capability 9.0 and 7.5 (the
toolkit's lowest), for real, on a machine without a GPU or a driver, and no float32 kernel
computes in float64. This runs ``python -m tinygrad_edu.kernels.cuda``, the command a user runs
before taking the code to a new GPU, in a fresh process (compiling needs numba.cuda without the
simulator).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from tinygrad_edu.kernels.cuda import devicefns  # noqa: E402
from tinygrad_edu.kernels.cuda.catalog import float64_instructions  # noqa: E402
from tinygrad_edu.kernels.cuda.check import all_cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


def _compile_command(*args):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    return subprocess.run([sys.executable, "-m", "tinygrad_edu.kernels.cuda", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)


def test_every_kernel_compiles_for_every_dtype_at_cc_9_0_and_7_5():
    result = _compile_command("--cc", "9.0", "--cc", "7.5", "--jobs", str(os.cpu_count() or 1))
    lines = result.stdout.splitlines()
    print(lines[-1] if lines else result.stderr)
    failures = [line for line in lines if line.startswith("FAIL")]
    assert failures == [] and result.returncode == 0, "\n".join(failures) or result.stderr
    compiled = {tuple(line.split()[1:3] + [line.split()[4]]) for line in lines
                if line.startswith("ok")}
    expected = {(name, label, cc) for name, label in _labelled_cases() for cc in ("9.0", "7.5")}
    assert compiled == expected


def _labelled_cases():
    from tinygrad_edu.kernels.cuda.catalog import key_label

    return [(name, key_label(key)) for name, key in all_cases()]


def test_the_command_prints_one_line_per_kernel_and_dtype_and_fails_on_an_error():
    ok = _compile_command("--cc", "9.0", "--kernel", "fill", "--jobs", "1")
    assert ok.returncode == 0
    assert [line.split()[:3] for line in ok.stdout.splitlines()[:-1]] == [
        ["ok", "fill", dtype] for dtype in ["bool", "int32", "int64", "float32", "float64"]]
    failing = _compile_command("--cc", "5.0", "--kernel", "fill", "--jobs", "1")
    assert failing.returncode == 1 and "FAIL fill" in failing.stdout
    assert "requires >=7.5" in failing.stdout
    assert _compile_command("--kernel", "no_such_kernel").returncode == 2


def test_the_float64_check_catches_a_python_float_that_the_typed_constants_avoid():
    from numba import cuda, float32

    def scaled(x):
        return 0.1 * x + 1.0   # not exact in float32, so LLVM cannot narrow it back

    plain = cuda.jit(device=True, inline="always")(scaled)
    typed = devicefns.typed_device(scaled, np.float32)

    def kernel_with(device_function):
        def k(out, x):
            out[0] = device_function(x[0])
        return k

    for device_function, promoted in [(plain, True), (typed, False)]:
        ptx, _ = cuda.compile_ptx(kernel_with(device_function), (float32[::1], float32[::1]),
                                  cc=(7, 5))
        assert bool(float64_instructions(ptx)) == promoted
