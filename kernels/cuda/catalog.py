"""Every CUDA kernel of the backend, by name and dtype, for running and for compile checks.

A kernel is written once as a *builder*: ``build(key)`` returns the kernel's Python function
and its argument types for one dtype (or one ``(source, target)`` dtype pair, for casts), with
the dtype's constants and shared-memory types baked in. ``CATALOG[name][key]`` compiles it on
first use with exactly those argument types, so what runs on a GPU is what
``compile_ptx(name, key, cc)`` compiles to PTX on a machine without one (``python -m
tinygrad_edu.kernels.cuda --cc 9.0`` compiles the whole catalog; the tests do the same).

Builders import numba's types when they run; registering a kernel compiles nothing.
"""

import re

import numpy as np

from .runtime import SIMULATED, cuda

__all__ = ["Kernel", "kernel", "CATALOG", "key_label", "compile_ptx", "float64_instructions"]

CATALOG = {}


def key_label(key):
    """``"float32"``, or ``"float32->int64"`` for a dtype pair."""
    if isinstance(key, tuple):
        return "->".join(np.dtype(k).name for k in key)
    return np.dtype(key).name


class Kernel:
    """One kernel: its builder, the dtype keys it is compiled for, and the compiled
    dispatchers (``kernel[key]``, then ``[blocks, threads](*args)`` to launch)."""

    def __init__(self, name, build, keys):
        self.name, self._build = name, build
        self.keys = tuple(tuple(np.dtype(k) for k in key) if isinstance(key, tuple)
                          else np.dtype(key) for key in keys)
        self._compiled = {}

    def source(self, key):
        """``(python function, argument types)`` for ``key``."""
        return self._build(key)

    def __getitem__(self, key):
        compiled = self._compiled.get(key)
        if compiled is None:
            if key not in self.keys:
                raise KeyError(f"kernel {self.name} is not built for {key_label(key)} (built "
                               f"for {', '.join(map(key_label, self.keys))})")
            function, argtypes = self.source(key)
            # The simulator runs the Python function itself and ignores the types.
            compiled = cuda.jit(argtypes)(function) if not SIMULATED else cuda.jit(function)
            self._compiled[key] = compiled
        return compiled

    def __repr__(self):
        return f"Kernel({self.name!r}, {', '.join(map(key_label, self.keys))})"


def kernel(name, keys):
    """Register the decorated builder as kernel ``name`` for each dtype key in ``keys``."""
    def register(build):
        CATALOG[name] = Kernel(name, build, keys)
        return CATALOG[name]
    return register


def compile_ptx(name, key, cc):
    """PTX of kernel ``name`` for ``key`` at compute capability ``cc`` (a ``(major, minor)``
    pair); needs numba-cuda's NVVM, no GPU and no driver."""
    function, argtypes = CATALOG[name].source(key)
    ptx, _ = cuda.compile_ptx(function, argtypes, cc=cc)
    return ptx


# libdevice's sinf and cosf reduce a huge argument (|x| > 105615, Payne-Hanek) to a 64-bit
# integer times pi/2 * 2^-64 in float64: NVIDIA's code, not a Python float's promotion.
_LIBDEVICE_REDUCTION = re.compile(r"mul\.f64\s+(%fd\d+),\s*(%fd\d+),\s*0d3BF921FB54442D19;")


def float64_instructions(ptx):
    """The PTX instructions that compute in float64 (arithmetic, conversions, loads of float64
    arguments): a float32 kernel must have none, or a Python float promoted its arithmetic."""
    lines = [line.strip() for line in ptx.splitlines()
             if ".f64" in line and not line.strip().startswith(("//", ".reg"))]
    allowed = set()
    for line in lines:
        match = _LIBDEVICE_REDUCTION.search(line)
        if match:
            product, factor = (re.escape(register) for register in match.groups())
            allowed.add(line)
            allowed.update(other for other in lines
                           if re.match(rf"cvt\.rn\.f64\.s64\s+{factor},", other)
                           or re.match(rf"cvt\.rn\.f32\.f64\s+%f\d+,\s*{product};", other))
    return [line for line in lines if line not in allowed]
