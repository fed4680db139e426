"""README.md stays true: every Python example in it runs, in order, and prints what it claims.

A block's expected output is written as comment lines right after its last ``print`` (``# ...``)
or as the fenced block that follows it; both are compared with what the code printed.
"""

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _python_blocks():
    """(code, expected output or None) for each ```python block, in README order."""
    fences = [(m.group(1), m.group(2)) for m in FENCE.finditer(README.read_text())]
    blocks = []
    for i, (lang, body) in enumerate(fences):
        if lang != "python":
            continue
        trailing = re.search(r"\n((?:# .*\n)+)$", "\n" + body)
        expected = None
        if trailing and "print(" in body:
            expected = "".join(line[2:] + "\n" for line in trailing.group(1).splitlines())
        elif "print(" in body and i + 1 < len(fences) and fences[i + 1][0] == "":
            expected = fences[i + 1][1]
        blocks.append((body, expected))
    return blocks


def test_readme_has_python_examples():
    assert len(_python_blocks()) >= 6


def test_every_readme_example_runs_and_prints_what_the_readme_shows(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "readme"}
    for code, expected in _python_blocks():
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, str(README), "exec"), namespace)
        if expected is not None:
            _assert_same_output(out.getvalue(), expected)


def _assert_same_output(got, want):
    """Same words; numbers equal to within 2% (the backends round float32 differently).

    Warning lines (written to stderr, shown in README for the reader) are not compared.
    """
    want_lines = [line for line in want.splitlines()
                  if not re.search(r"\w+Warning: ", line) and line.strip() != "model(x)"]
    got_tokens, want_tokens = got.split(), "\n".join(want_lines).split()
    message = f"README example printed:\n{got}\nREADME says:\n{want}"
    assert len(got_tokens) == len(want_tokens), message
    for g, w in zip(got_tokens, want_tokens):
        try:
            gf, wf = float(g), float(w)
        except ValueError:
            assert g == w, message
            continue
        assert abs(gf - wf) <= 0.02 * abs(wf) + 1e-3, message
