"""One demo run at tiny settings, session-scoped: several test files read its outputs."""

import functools
import json

import pytest

from tinygrad_edu.apps import demo
from cli_runs import TINY, run_cli


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """``(out folder, stdout, stderr, metrics)`` of ``tinygrad-edu demo`` at ``TINY``."""
    from tqdm.auto import tqdm

    out = tmp_path_factory.mktemp("demo") / "run"
    with pytest.MonkeyPatch.context() as patch:
        # The bar redraws at every step, however fast the tiny epochs are.
        patch.setattr(demo, "_progress_bar", lambda log: functools.partial(tqdm, mininterval=0))
        code, stdout, stderr = run_cli(["demo", *TINY, "--out", str(out)])
    assert code == 0, stderr
    return out, stdout, stderr, json.loads((out / "metrics.json").read_text())
