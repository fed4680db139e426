"""The CPU kernels' on-disk cache is keyed on every source they can inline, not on one file."""

import ast
import json
import os
import re
import subprocess
import sys
import textwrap

import numba
import pytest

from tinygrad_edu.kernels.cpu import cache_stamp
from tinygrad_edu.kernels.cpu.cache_stamp import (KERNEL_SOURCES, KernelSourcesLocator,
                                                  sources_stamp)

KERNEL_DIR = os.path.dirname(cache_stamp.__file__)


def test_the_stamp_changes_with_the_content_or_the_name_of_any_source(tmp_path):
    paths = []
    for name, text in (("a.py", "x = 1\n"), ("b.py", "y = 2\n")):
        paths.append(tmp_path / name)
        paths[-1].write_text(text)
    before = sources_stamp(paths)
    assert sources_stamp(paths) == before
    paths[1].write_text("y = 3\n")
    assert sources_stamp(paths) != before
    paths[1].write_text("y = 2\n")
    assert sources_stamp(paths) == before
    renamed = tmp_path / "c.py"
    renamed.write_text("y = 2\n")
    assert sources_stamp([paths[0], renamed]) != before


def test_the_sources_are_every_module_here_and_the_activation_registry():
    import tinygrad_edu.activations as registry
    here = {os.path.join(KERNEL_DIR, f) for f in os.listdir(KERNEL_DIR) if f.endswith(".py")}
    assert set(KERNEL_SOURCES) == here | {os.path.abspath(registry.__file__)}


def _cached_kernel_modules():
    """The modules here that define a kernel with ``cache=True``, by reading their source."""
    for name in sorted(os.listdir(KERNEL_DIR)):
        if name.endswith(".py") and re.search(r'@(njit|overload)\(.*("cache": |cache=)True',
                                              open(os.path.join(KERNEL_DIR, name)).read()):
            yield name[:-3]


@pytest.mark.parametrize("module", list(_cached_kernel_modules()))
def test_every_cached_kernel_is_stamped_with_all_the_sources(module):
    """Each module imports cache_stamp before its first kernel, so Numba gives every cached
    dispatcher the locator that reports the stamp of all the sources."""
    path = os.path.join(KERNEL_DIR, module + ".py")
    imported = [node for node in ast.parse(open(path).read()).body
                if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module
                and any(alias.name == "cache_stamp" for alias in node.names)]
    assert imported, f"{module}.py does not import cache_stamp"
    mod = __import__(f"tinygrad_edu.kernels.cpu.{module}", fromlist=["_"])
    dispatchers = [obj for obj in vars(mod).values()
                   if isinstance(obj, numba.core.registry.CPUDispatcher)
                   and obj.__module__ == mod.__name__ and obj._cache.__class__.__name__
                   == "FunctionCache"]
    assert dispatchers, f"{module}.py: no cached kernel found"
    for dispatcher in dispatchers:
        locator = dispatcher._cache._impl.locator
        assert isinstance(locator, KernelSourcesLocator), dispatcher
        assert locator.get_source_stamp() == sources_stamp(KERNEL_SOURCES)


_RUN = textwrap.dedent("""
    import json, sys
    import numpy as np
    from tinygrad_edu.kernels.cpu import cache_stamp
    cache_stamp.KERNEL_SOURCES += tuple(sys.argv[1:])   # as if these were kernel sources
    from tinygrad_edu.kernels.cpu.matmul import transpose_into
    a = np.arange(12.0).reshape(3, 4)
    out = np.empty((4, 3))
    transpose_into(a, 0, 4, 0, 3, out)
    assert (out == a.T).all()
    stats = transpose_into.stats
    print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
""")


def _hits_and_misses(cache_dir, *extra_sources):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", _RUN, *map(str, extra_sources)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_an_edited_source_recompiles_a_kernel_defined_in_another_file(tmp_path):
    """A kernel compiled and cached by one process loads from the cache in the next; once a
    source it may inline has changed (here a stand-in file added to the sources), the next
    process compiles it again instead of loading the code built from the old text."""
    source = tmp_path / "inlined.py"
    source.write_text("STEP = 1\n")
    cache = tmp_path / "cache"
    assert _hits_and_misses(cache, source) == [0, 1]   # compiled and saved
    assert _hits_and_misses(cache, source) == [1, 0]   # loaded
    source.write_text("STEP = 2\n")
    assert _hits_and_misses(cache, source) == [0, 1]   # stale: compiled again
    assert _hits_and_misses(cache, source) == [1, 0]
