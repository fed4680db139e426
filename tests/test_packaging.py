"""Packaging: imports stay light, kernels/ and viz/ live only inside tinygrad_edu.

Each check runs in a fresh interpreter started in the repository root, where a stray absolute
``import kernels`` or ``import viz`` would succeed and load a second copy of the module.
"""

import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tinygrad_edu

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["numba", "numba.cuda", "graphviz", "mpi4py"]


def _run(code):
    """Run ``code`` in a new interpreter in the repository root; return its JSON output."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["tinygrad_edu", "tinygrad_edu.kernels", "tinygrad_edu.viz"])
def test_import_loads_no_compiler_and_no_graphviz(module):
    report = _run(f"""
        import json, sys, time
        start = time.perf_counter()
        import {module}
        seconds = time.perf_counter() - start
        print(json.dumps({{"heavy": [m for m in {HEAVY!r} if m in sys.modules],
                           "seconds": seconds}}))
    """)
    # The time is printed, never asserted: it depends on the machine and its load.
    print(f"import {module}: {report['seconds'] * 1000:.0f} ms")
    assert report["heavy"] == []


def test_importing_every_module_never_creates_top_level_kernels_or_viz():
    report = _run("""
        import importlib, json, pkgutil, sys
        import tinygrad_edu, tinygrad_edu.kernels, tinygrad_edu.viz
        skipped, broken = [], []
        for package in (tinygrad_edu, tinygrad_edu.kernels, tinygrad_edu.viz):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                try:
                    importlib.import_module(info.name)
                except ImportError as exc:
                    # A missing optional dependency (CUDA) is fine; a missing module of ours
                    # is a bug.
                    ours = (exc.name or "").startswith("tinygrad_edu")
                    (broken if ours else skipped).append(f"{info.name}: {exc}")
        print(json.dumps({"modules": sorted(m for m in sys.modules if m.startswith("tinygrad")),
                          "top_level": [m for m in ("kernels", "viz") if m in sys.modules],
                          "skipped": skipped, "broken": broken}))
    """)
    print("modules imported:", len(report["modules"]), "skipped:", report["skipped"])
    assert report["top_level"] == []
    assert report["broken"] == []
    assert "tinygrad_edu.tensor" in report["modules"]


def test_only_tinygrad_edu_is_installed_at_top_level():
    try:
        distribution = importlib.metadata.distribution("tinygrad_edu")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("tinygrad_edu is not installed (running from a source tree)")
    assert distribution.read_text("top_level.txt").split() == ["tinygrad_edu"]
    assert Path(tinygrad_edu.kernels.__file__).parent.name == "kernels"


def test_public_api_is_explicit_and_complete():
    exported = set(tinygrad_edu.__all__)
    assert {"Tensor", "Value", "gradcheck", "no_grad", "manual_seed", "cat", "stack", "where",
            "set_backend", "ShapeError", "DTypeError", "GradError"} <= exported
    assert all(hasattr(tinygrad_edu, name) for name in exported)
