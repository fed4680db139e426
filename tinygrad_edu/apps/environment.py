"""``tinygrad-edu info``: what this machine has, and for anything missing, why and the fix.

Versions are read from the installed distributions' metadata, so nothing heavy is imported to
learn them; each backend is then selected once to see that it loads (the previous CPU backend
is restored), and each device is probed as ``devices()`` does.
"""

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys

from .. import __version__
from ..backends import available_backends, devices, get_backend, set_backend

__all__ = ["environment_lines"]

# distribution -> what it is for
_LIBRARIES = {
    "numpy": "arrays (required)",
    "numba": "the compiled CPU backend and the fused inference path",
    "llvmlite": "Numba's compiler",
    "graphviz": "computation-graph drawings (the Python side; `dot` renders them)",
    "matplotlib": "the demo's and `plot`'s pictures",
    "tqdm": "progress bars",
    "numba-cuda": "the CUDA backend (pip install \"tinygrad_edu[cuda]\")",
}


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _backend_lines():
    previous = get_backend("cpu")
    lines = []
    try:
        for name in available_backends():
            try:
                set_backend(name)
                state = "works here"
            except Exception as exc:   # noqa: BLE001 - any failure to load is the answer
                state = f"does not load here: {type(exc).__name__}: {exc}"
            default = " (the default)" if name == previous.name else ""
            lines.append(f"  {name:<10}{state}{default}")
    finally:
        set_backend(previous.name)
    return lines


def _dot_line():
    dot = shutil.which("dot")
    if dot is None:
        return ("  dot          not found, so graphs cannot be rendered: sudo apt-get install "
                "graphviz (Debian/Ubuntu), brew install graphviz (macOS) or conda install -c "
                "conda-forge graphviz")
    result = subprocess.run([dot, "-V"], capture_output=True, text=True, timeout=30)
    return f"  dot          {(result.stderr or result.stdout).strip()} ({dot})"


def environment_lines():
    """The report as a list of lines."""
    lines = [f"tinygrad_edu {__version__} ({os.path.dirname(os.path.dirname(__file__))})",
             f"Python {platform.python_version()} ({platform.python_implementation()}, "
             f"{sys.executable})",
             f"{platform.platform()}, {os.cpu_count()} CPU cores", "", "libraries:"]
    for distribution, purpose in _LIBRARIES.items():
        version = _version(distribution)
        lines.append(f"  {distribution:<12} {version or 'not installed'}: {purpose}")
    lines += ["", "backends (TINYGRAD_EDU_BACKEND or set_backend() chooses):", *_backend_lines()]
    lines += ["", "devices:", *(f"  {info}" for info in devices())]
    cuda = [info for info in devices() if info.name == "cuda"]
    gpu = "yes" if cuda and cuda[0].available else \
        f"no ({cuda[0].reason})" if cuda else "no CUDA device is known to this version"
    lines += ["", "tools:", _dot_line(), f"  CUDA GPU     {gpu}"]
    return lines
