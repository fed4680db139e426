"""The fused inference kernel's single-example blocks compile to vector multiply-adds.

Whether LLVM vectorizes a block depends on how wide it is, in a way no numerical test sees: a
block whose column loop was unrolled first ran as scalar multiply-adds, as fast or slow as the
machine's scalar unit, with the same bits. So the machine code is read: the inference path is
compiled (not run) for an AVX2 and an AVX-512 x86 CPU in a fresh process each, with an empty
cache, and every single-example block must hold vector multiply-adds and no scalar ones.
"""

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="reads x86 machine code (cross-compiled for both kinds)")

_BASE = "+sse2,+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16,+avx,+avx2,+fma,+f16c,+bmi,+bmi2"
KINDS = {"avx2": ("haswell", _BASE),
         "avx512": ("skylake-avx512", _BASE + ",+avx512f,+avx512dq,+avx512bw,+avx512vl")}

_COMPILE = textwrap.dedent("""
    import json, re
    import tinygrad_edu as tg
    from tinygrad_edu import nn
    from tinygrad_edu.kernels.cpu import mlp_kernel
    from tinygrad_edu.kernels.cpu.mlp import CompiledMLP
    for double, weights in ((False, None), (False, "bfloat16"), (True, None)):
        net = nn.MLP(128, [256, 128, 64], 1)   # hidden widths of 4, 2 and 1 AVX-512 tiles
        CompiledMLP(net.double() if double else net, weights=weights)   # compiles, runs nothing
    found = []
    for sig in mlp_kernel._block.overloads:
        rows, tiles = sig[2].literal_value, sig[3].literal_value
        asm = mlp_kernel._block.inspect_asm(sig)
        found.append({"block": f"{rows}x{tiles}", "format": sig[7].literal_value,
                      "dtype": str(sig[8].dtype),
                      "scalar": len(re.findall(r"vfmadd\\w*s[sd]\\s", asm)),
                      "vector": len(re.findall(r"vfmadd\\w*p[sd]\\s", asm))})
    print(json.dumps(found))
""")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_single_example_block_is_vector_code(kind, tmp_path):
    cpu, features = KINDS[kind]
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), NUMBA_CPU_NAME=cpu,
               NUMBA_CPU_FEATURES=features)
    done = subprocess.run([sys.executable, "-c", _COMPILE], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    blocks = json.loads(done.stdout.splitlines()[-1])
    single = [b for b in blocks if b["block"].startswith("1x")]   # 1 example x tiles
    assert single, blocks
    scalar = [b for b in single if b["scalar"] or not b["vector"]]
    assert not scalar, f"{kind}: single-example blocks with scalar multiply-adds: {scalar}"
