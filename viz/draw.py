"""``draw_graph`` and ``render_graph``: the public entry points of ``tinygrad_edu.viz``."""

import math
import os

from ..errors import DTypeError
from ..tensor import Tensor
from ..scalar import Value
from .errors import VizError
from .neurons import check_expand
from .tensor_graph import tensor_drawing
from .value_graph import value_drawing

__all__ = ["draw_graph", "render_graph"]

_RANKDIRS = ("LR", "RL", "TB", "BT")
_DIRECTIONS = ("forward", "backward")
_GROUPINGS = (True, False, "collapse")


def draw_graph(root, *, show_data=True, show_grad=True, rankdir="LR", params=None,
               group_modules=True, max_nodes=500, direction="forward", highlight=None,
               expand=()):
    """The computation graph behind ``root`` (a ``Value`` or a ``Tensor``) as a Digraph.

    The result is a ``graphviz.Digraph``: it shows inline in Jupyter, ``.source`` is the DOT
    text and ``.render("graph", format="svg")`` writes a file (that needs Graphviz's ``dot``
    program; building the Digraph does not).

    Args:
        root: the Value or Tensor whose graph is drawn (usually a loss or a model output).
        show_data: show values (Value data; Tensor values when tiny, else mean/std/min/max).
        show_grad: show gradients (after ``root.backward()``) and, on Value graphs, each
            edge's local derivative.
        rankdir: direction of the forward pass in the picture: "LR", "RL", "TB" or "BT".
        params: names for parameters: a dict ``{name: node}``, pairs such as
            ``model.named_parameters()``, or a module. Tensor parameters of nn modules are
            named automatically from the modules whose forward used them.
        group_modules: Tensor graphs only. True draws what each module's forward created in
            a labelled cluster (``layers.0 (Layer 128→256, relu)``); "collapse" draws each
            layer (each module directly inside the outermost one) as a single node; False
            draws no clusters.
        max_nodes: refuse graphs with more nodes than this (``GraphTooLargeError``) instead of
            leaving Graphviz busy for minutes.
        direction: "forward", or "backward" to draw the gradient flow: edges reversed, from
            the output back to the inputs, with gradients leading each node's text (shown
            whatever ``show_grad`` says). The picture keeps the forward layout.
        highlight: a node to mark: what ``gradcheck`` raised (``draw_graph(err.root,
            highlight=err)`` marks the op it blames and writes backward's and finite
            differences' numbers on it), an op node (``t.grad_fn``), a Tensor or a Value.
        expand: Tensor graphs only: names of ``nn.Layer`` modules (``["layers.1"]``) to draw
            as their neurons, one weighted sum and one activation per unit, numbers from the
            layer's scalar twin; a layer wider than 8 shows its first and last 3 units.

    Colour legend:
        light blue: inputs (leaves that need no gradient: data, constants);
        light green: parameters (leaves that require grad, labelled with their names);
        white: intermediate results;  light orange: the output ``root``;
        grey ellipses: operations (Value graphs);
        light red: ReLU with dead units (output 0 for every example drawn) above 30% on
        Tensor graphs, or a dead ReLU unit on Value graphs;
        light yellow with a thick red border: the node ``highlight`` marks.

    Raises:
        GraphTooLargeError: more than ``max_nodes`` nodes.
        VizError: an unknown option value, a ``highlight`` not in the graph, an ``expand``
        name that is not a layer of it.  DTypeError: ``root`` is not a Value or Tensor.

    >>> from tinygrad_edu import Value
    >>> x = Value(2.0, label="x"); y = (x * 3).relu(); y.backward()
    >>> graph = draw_graph(y); "x" in graph.source
    True
    """
    _check_options(rankdir, direction, group_modules, max_nodes)
    expand = check_expand(expand, root)
    backward = direction == "backward"
    show_grad = show_grad or backward     # gradients are what a backward drawing is about
    if isinstance(root, Value):
        drawing = value_drawing(root, show_data=show_data, show_grad=show_grad, params=params,
                                max_nodes=max_nodes, backward=backward, highlight=highlight)
    elif isinstance(root, Tensor):
        drawing = tensor_drawing(root, show_data=show_data, show_grad=show_grad, params=params,
                                 group_modules=group_modules, max_nodes=max_nodes,
                                 backward=backward, highlight=highlight, expand=expand)
    else:
        raise DTypeError(f"draw_graph: expected a Value or a Tensor to draw the graph of, got "
                         f"{type(root).__name__}")
    from .digraph import to_digraph   # graphviz is imported only when a graph is drawn
    return to_digraph(drawing, rankdir=rankdir, backward=backward)


def render_graph(root, path, format=None, timeout=None, **opts):
    """Draw ``root``'s graph into the file ``path`` and return the path written.

    ``format`` ("svg", "png", "pdf", ...) defaults to the file's extension, else "svg";
    ``opts`` are ``draw_graph``'s options. ``timeout``: seconds dot may take before it is
    stopped with ``DotTimeoutError`` (None: ``viz.digraph.DOT_TIMEOUT``, 120 s; ``math.inf``:
    no limit). Needs Graphviz's ``dot`` program: without it, ``GraphvizNotFoundError`` says
    how to install it, and the DOT source is saved beside ``path`` (same name, ``.gv``
    extension) so nothing is lost.

    >>> render_graph(loss, "loss.svg")   # doctest: +SKIP
    'loss.svg'
    """
    from .digraph import DOT_TIMEOUT, FORMATS
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1][1:].lower()
    if format is None:
        format = suffix if suffix in FORMATS else "svg"
    elif format not in FORMATS:
        raise VizError(f"render_graph: unknown format {format!r}; use 'svg', 'png', 'pdf' or "
                       "another format Graphviz knows")
    elif suffix in FORMATS and suffix != format:
        raise VizError(f"render_graph: the file name {path!r} ends in .{suffix} but format is "
                       f"{format!r}; make them agree")
    if timeout is None:
        timeout = DOT_TIMEOUT
    elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise VizError(f"render_graph: timeout must be a number of seconds > 0 (math.inf for "
                       f"no limit), got {timeout!r}")
    graph = draw_graph(root, **opts)
    return graph.render_file(path, format, None if timeout == math.inf else timeout,
                             _timeout_advice(graph, opts))


def _timeout_advice(graph, opts):
    """What to try when dot takes too long on ``graph`` (drawn with ``opts``)."""
    if graph.has_clusters and opts.get("group_modules", True) != "collapse":
        fewer = "pass group_modules='collapse' to draw each layer as one node, or draw a smaller"
    else:
        fewer = "draw a smaller"
    return (f"A graph this large is unreadable as a picture anyway: {fewer} example (fewer "
            "layers, a narrower network, one example per batch). Pass a larger timeout= "
            "(math.inf: no limit) only to wait for it regardless.")


def _check_options(rankdir, direction, group_modules, max_nodes):
    if rankdir not in _RANKDIRS:
        raise VizError(f"draw_graph: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if direction not in _DIRECTIONS:
        raise VizError(f"draw_graph: direction must be 'forward' or 'backward', got "
                       f"{direction!r}")
    if not any(group_modules is g or (isinstance(g, str) and group_modules == g)
               for g in _GROUPINGS):
        raise VizError(f"draw_graph: group_modules must be True, False or 'collapse', got "
                       f"{group_modules!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise VizError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")
