"""Drawing of a scalar ``Value`` graph: a small table per value, a small node per operation.

This is the classic scalar-engine picture: each value shows its label, data and grad; each
operation (``+``, ``*``, ``tanh``) is a small grey node; an edge from an input to an operation
carries the local derivative d(op output)/d(input), so the chain rule can be read off the
drawing: a value's grad is the sum over its outgoing edges of (edge label x grad after the op).
"""

from ..scalar import Value
from .highlight import BORDER, find_highlight
from .labels import bold, escape, fmt, html_label, small
from .plan import COLORS, Drawing, GRAD_TEXT, WARNING_TEXT, check_size, param_names
from .walk import collect

__all__ = ["value_drawing"]


def value_drawing(root, *, show_data, show_grad, params, max_nodes, backward, highlight=None):
    """A ``Drawing`` of every Value that ``root`` depends on.

    Edges carry the local derivative: "∂ 2" on the way forward; drawn ``backward`` they
    read "× 2", the factor the gradient is multiplied by as it flows back along the edge.
    The op that made the Value ``highlight`` names is marked, and so is the edge of the input
    whose local derivative a gradcheck error found wrong.
    """
    values, edges = collect(root, lambda v: v.inputs)
    mark = find_highlight(highlight, values)
    op_count = sum(1 for v in values if v.inputs)
    check_size(len(values) + op_count, max_nodes,
               f"Pass max_nodes={len(values) + op_count} or more to draw it anyway, or draw a "
               "smaller example: a Value graph has one node per number and per operation, while "
               "the Tensor engine draws a whole layer as a few nodes.")
    names = param_names(params, (Value,))
    drawing = Drawing()
    for i, v in enumerate(values):
        if v is root:
            role = "output"
        elif id(v) in names:
            role = "parameter"
        else:
            role = "input" if not v.inputs else "intermediate"
        title = names.get(id(v), v.label)
        marked = mark is not None and mark.target is v
        if marked and not v.inputs:
            role = "highlight"
        drawing.node(f"v{i}", _value_label(v, title, show_data, show_grad, COLORS[role]),
                     shape="plain")
        if v.inputs:
            op_label, op_attrs = _op_label(v, mark.lines if marked else None)
            drawing.node(f"o{i}", op_label, **op_attrs)
            drawing.edge(f"o{i}", f"v{i}")
    sign = "\u00d7" if backward else "\u2202"
    for parent, child, position in edges:
        attrs = {}
        if show_grad:
            local = values[child].local_grads[position]
            attrs = {"label": html_label(small(f"{sign} {escape(fmt(local))}", GRAD_TEXT))}
        if (mark is not None and mark.target is values[child]
                and mark.wrong_input is values[parent]):
            attrs.update(BORDER)
        drawing.edge(f"v{parent}", f"o{child}", **attrs)
    return drawing


def _value_label(v, title, show_data, show_grad, fill):
    """A small table: the title on top, data and grad side by side below it.

    Stacking keeps nodes narrow, so a left-to-right drawing of a whole network stays within a
    screen's width instead of one very long strip.
    """
    numbers = []
    if show_data:
        numbers.append(f"data {escape(fmt(v.data))}")
    if show_grad:
        numbers.append(f'<FONT COLOR="{GRAD_TEXT}">grad {escape(fmt(v.grad))}</FONT>')
    rows = []
    if title:
        rows.append(f'<TD COLSPAN="{max(len(numbers), 1)}">{bold(escape(title))}</TD>')
    if numbers or not title:
        rows.append("".join(f"<TD>{c}</TD>" for c in numbers or ["value"]))
    body = "".join(f"<TR>{r}</TR>" for r in rows)
    return html_label(f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
                      f'BGCOLOR="{fill}">{body}</TABLE>')


def _op_label(v, highlight_lines=None):
    """Label and attributes of the op node that produced ``v``.

    A ReLU whose input is <= 0 outputs 0 and passes no gradient back: for the one example in a
    Value graph that unit is dead, so it is marked in the warning colour. (A leaky ReLU never
    dies: its negative side still passes a small gradient.) ``highlight_lines`` (a list,
    possibly empty) marks the op and is written below its name.
    """
    op = escape(v.op)
    attrs = {"shape": "ellipse", "style": "filled", "fillcolor": COLORS["op"],
             "margin": "0.04,0.02", "width": "0.3", "height": "0.3"}
    if highlight_lines is not None:
        attrs.update(fillcolor=COLORS["highlight"], **BORDER)
        return html_label("<BR/>".join([op, *highlight_lines])), attrs
    if v.op == "relu" and v.inputs[0].data <= 0:
        attrs.update(fillcolor=COLORS["dead"], color=WARNING_TEXT)
        return html_label(f"{op}<BR/>{small('dead', WARNING_TEXT)}"), attrs
    return html_label(op), attrs
