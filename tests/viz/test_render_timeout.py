"""render_graph stops a dot that takes too long (a timeout, generous by default) and says what
to draw instead; a dot that fails is reported with its own message. A stand-in ``dot`` on
PATH plays the slow and the failing program."""

import os
import stat
import sys

import pytest

from tinygrad_edu import Tensor, Value, nn
from tinygrad_edu.viz import VizError, render_graph
from tinygrad_edu.viz.digraph import DOT_TIMEOUT, DotTimeoutError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in dot is a sh script")


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """Put a ``dot`` running ``body`` (sh) first on PATH."""
    def install(body):
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        script = folder / "dot"
        script.write_text("#!/bin/sh\n" + body + "\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return install


def _module_graph():
    model = nn.MLP(4, [8], 1)
    return nn.functional.mse_loss(model(Tensor.randn(2, 4)), Tensor.randn(2, 1))


def test_a_slow_dot_is_stopped_and_the_advice_suggests_collapsing_modules(tmp_path, fake_dot):
    fake_dot("sleep 30")
    path = tmp_path / "mlp.svg"
    with pytest.raises(DotTimeoutError) as info:
        render_graph(_module_graph(), path, timeout=0.3)
    message = str(info.value)
    assert "stopped after 0.3 s" in message and "nodes" in message
    assert "group_modules='collapse'" in message
    assert isinstance(info.value, TimeoutError)
    assert not path.exists() and (tmp_path / "mlp.gv").exists()
    assert info.value.source_path == str(tmp_path / "mlp.gv")


def test_graphs_without_modules_or_already_collapsed_are_told_to_draw_less(tmp_path, fake_dot):
    fake_dot("sleep 30")
    for root, opts in ((Value(2.0) * 3, {}), (_module_graph(), {"group_modules": "collapse"})):
        with pytest.raises(DotTimeoutError) as info:
            render_graph(root, tmp_path / "g.svg", timeout=0.3, **opts)
        assert "group_modules" not in str(info.value)
        assert "draw a smaller example" in str(info.value)


def test_a_failing_dot_is_a_viz_error_with_its_message(tmp_path, fake_dot):
    fake_dot("echo 'syntax error in line 3' >&2; exit 1")
    with pytest.raises(VizError, match="dot failed \\(exit status 1\\).*syntax error in line 3"):
        render_graph(Value(1.0) * 2, tmp_path / "g.svg")


def test_the_default_timeout_is_generous():
    assert 60 <= DOT_TIMEOUT <= 600
