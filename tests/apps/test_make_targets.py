"""The two commands of README.md in a fresh copy of the repository: `make demo` and `make test`
create .venv, install what they need, run, and a second run installs nothing.

Slow (a new virtual environment, packages from the network, Numba compiling from scratch:
a few minutes), so it runs only with ``TINYGRAD_EDU_SLOW=1``:

    TINYGRAD_EDU_SLOW=1 python -m pytest -q tests/apps/test_make_targets.py
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("TINYGRAD_EDU_SLOW") != "1",
                       reason="slow: set TINYGRAD_EDU_SLOW=1 to build a fresh clone"),
    pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                       reason="needs make and git"),
]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The files a commit of this working tree would hold (tracked and new, not ignored),
    copied to a new folder: what `git clone` gives a newcomer."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    target = tmp_path_factory.mktemp("fresh") / "tinygrad_edu"
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _make(clone, *args):
    """Run make as a new user would: no virtual environment active, this suite's settings
    (a chosen backend, the slow switch) left out."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "TINYGRAD_EDU_BACKEND", "TINYGRAD_EDU_SLOW")}
    own_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != own_bin)
    result = subprocess.run(["make", *args], cwd=clone, env=env, capture_output=True,
                            text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def test_make_demo_sets_up_and_runs_the_main_job_then_installs_nothing_again(clone):
    first = _make(clone, "demo", "DEMO_ARGS=--epochs 1 --users 200")
    assert (clone / ".venv" / "bin" / "python").exists()
    assert "pip install" in first
    assert "wrote graph.svg" in first or "dot -Tsvg" in first    # with or without Graphviz
    assert (clone / "tinygrad-edu-out" / "report.html").stat().st_size > 10_000
    again = _make(clone, "demo", "DEMO_ARGS=--epochs 1 --users 200")
    assert "pip install" not in again and "open file://" in again


def test_make_test_runs_the_suite_three_times_then_installs_nothing_again(clone):
    first = _make(clone, "test", "TESTS=tests/scalar")
    for backend in ("default", "numpy", "strict"):
        assert f"== pytest on the {backend} backend" in first
    assert first.count(" passed") == 3 and "pip install" in first
    again = _make(clone, "test", "TESTS=tests/scalar")
    assert "pip install" not in again and again.count(" passed") == 3
