"""Computation-graph drawings for tinygrad_edu (installed as ``tinygrad_edu.viz``).

``draw_graph(root)`` returns a ``graphviz.Digraph`` of the graph behind a Value or Tensor;
``render_graph(root, "graph.svg")`` writes it to a file. Graphviz is imported on first use.
"""

from .draw import draw_graph, render_graph
from .errors import GraphTooLargeError, GraphvizNotFoundError, VizError

__all__ = ["draw_graph", "render_graph", "VizError", "GraphTooLargeError",
           "GraphvizNotFoundError"]
