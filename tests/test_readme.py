"""README.md stays true: every Python block runs on its own as a script, in a fresh interpreter,
and prints what the README shows; the picture it shows is the one the code draws.

A block's expected output is written as comment lines right after its last ``print`` (``# ...``)
or as the fenced block that follows it; both are compared with what the script printed. A block
whose output depends on the machine (the devices found here) is marked by the line
``<!-- readme: output depends on the machine -->`` right above it: it must run, and its output
is not compared.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
MACHINE_DEPENDENT = "<!-- readme: output depends on the machine -->"


def _python_blocks():
    """(section heading, code, expected output or None) for each ```python block, in order."""
    text = README.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    blocks = []
    for i, match in enumerate(fences):
        lang, body = match.group(1), match.group(2)
        if lang != "python":
            continue
        before = text[:match.start()]
        heading = re.findall(r"^#+ (.*)$", FENCE.sub("", before), re.M)[-1]
        expected = None
        trailing = re.search(r"\n((?:# .*\n)+)$", "\n" + body)
        if before.rstrip().endswith(MACHINE_DEPENDENT):
            expected = None
        elif trailing and "print(" in body:
            expected = "".join(line[2:] + "\n" for line in trailing.group(1).splitlines())
        elif "print(" in body and i + 1 < len(fences) and fences[i + 1].group(1) == "" \
                and text[match.end():fences[i + 1].start()].strip() in ("", "Output:"):
            expected = fences[i + 1].group(2)
        blocks.append((heading, body, expected))
    return blocks


BLOCKS = _python_blocks()


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("heading, code, expected", BLOCKS,
                         ids=[f"{i}-{h[:40]}" for i, (h, _, _) in enumerate(BLOCKS)])
def test_each_readme_example_runs_as_a_script_and_prints_what_the_readme_shows(
        tmp_path, heading, code, expected):
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"README block under '{heading}' failed:\n{result.stderr}"
    if expected is not None:
        _assert_same_output(result.stdout, expected)


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


def test_the_readme_starts_with_what_it_is_and_the_two_commands():
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings[0] == "Two commands"
    intro = text.split("\n## ")[0].split("\n", 1)[1].strip()
    assert "\n\n" not in intro                       # one paragraph
    first_block = FENCE.search(text).group(2)
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make demo",
                                                                                "make test"]
    order = ["Two commands", "A neuron in five lines", "An MLP trained in ten lines",
             "Gradient checking", "Seeing the computation graph", "The command line",
             "Backends and how to choose one", "Benchmarks", "Architecture", "How to develop"]
    assert [h for h in headings if h in order] == order


def test_the_picture_in_docs_is_the_one_the_code_draws(tmp_path):
    from viz_dot import svg_text

    committed = ROOT / "docs" / "neuron.svg"
    assert "](docs/neuron.svg)" in README.read_text(encoding="utf-8")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    from tinygrad_edu.apps.cli import main

    assert main(["graph", "--example", "neuron", "--out", str(tmp_path / "neuron.svg")]) == 0
    assert svg_text(committed) == svg_text(tmp_path / "neuron.svg")
