"""``draw_graph(root, highlight=...)``: one node of the graph marked, with what is wrong there.

``highlight`` is what ``gradcheck`` raised (a ``GradcheckError``: the op it blames is marked and
its two numbers, backward's and finite differences', are written on it), or any node of the
graph to point at: an op node (``t.grad_fn``), a Tensor or a Value.
"""

from ..check.gradcheck import GradcheckError
from ..scalar import Value
from ..tensor import Function, Tensor
from .errors import VizError
from .labels import bold, escape, fmt, small
from .plan import WARNING_TEXT

__all__ = ["Highlight", "find_highlight"]

# How a marked node stands out, whatever its fill: a thick border in the warning colour.
BORDER = {"color": WARNING_TEXT, "penwidth": "2.5"}


class Highlight:
    """The drawn node to mark (``target``: a Tensor or a Value of the graph), the lines of
    markup to add to it, and the input of a Value op whose local derivative is wrong (its
    edge is marked too; None otherwise)."""

    def __init__(self, target, lines=(), wrong_input=None):
        self.target, self.lines, self.wrong_input = target, list(lines), wrong_input


def find_highlight(highlight, nodes):
    """The ``Highlight`` for draw_graph's ``highlight`` argument among ``nodes`` (the drawn
    Tensors or Values), or None when ``highlight`` is None.

    Raises VizError when it is of another kind, or not in the graph (a gradcheck error names a
    node of the graph gradcheck built: draw ``err.root``).
    """
    if highlight is None:
        return None
    mismatch = None
    if isinstance(highlight, GradcheckError):
        if highlight.node is None:
            raise VizError("draw_graph: highlight: this gradcheck error blames no single op "
                           "(err.node is None: every op agrees with finite differences on its "
                           "own), so there is no node to mark")
        mismatch, highlight = highlight.op_mismatch, highlight.node
    elif not isinstance(highlight, (Function, Tensor, Value)):
        raise VizError(f"draw_graph: highlight must be a GradcheckError, an op node "
                       f"(tensor.grad_fn), a Tensor or a Value, got {type(highlight).__name__}")
    target = next((n for n in nodes if n is highlight
                   or (isinstance(n, Tensor) and n.grad_fn is highlight)), None)
    if target is None:
        raise VizError("draw_graph: highlight: that node is not in the graph of root; to mark "
                       "the op a gradcheck error blames, draw err.root (the graph gradcheck "
                       "checked): draw_graph(err.root, highlight=err)")
    if mismatch is None:
        return Highlight(target)
    wrong = target.inputs[mismatch.input] if isinstance(target, Value) and \
        mismatch.input is not None else None
    return Highlight(target, _mismatch_lines(mismatch, isinstance(target, Value)), wrong)


def _mismatch_lines(m, scalar):
    """The two numbers of an ``OpMismatch``, as lines of markup for the marked node."""
    if m.input is None:
        what = f"d out, moving input {m.along}"
    elif scalar:
        what = f"d out / d input {m.input}"
    else:
        what = f"d out{_index(m.output_element)} / d in{m.input}{_index(m.element)}"
    kind = "local derivative" if scalar else "backward"
    return [small(bold(f"{escape(kind)} is wrong"), WARNING_TEXT),
            small(escape(what), WARNING_TEXT),
            small(f"{escape(kind)}: {escape(fmt(m.computed))}", WARNING_TEXT),
            small(f"finite differences: {escape(fmt(m.expected))}", WARNING_TEXT)]


def _index(element):
    return f"[{','.join(map(str, element))}]" if element else ""
