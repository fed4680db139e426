"""Computation-graph drawings for tinygrad_edu (installed as ``tinygrad_edu.viz``).

``draw_graph(root)`` returns a ``graphviz.Digraph`` of the graph behind a Value or Tensor;
``render_graph(root, "graph.svg")`` writes it to a file. Graphviz is imported on first use.
``expand=["layers.1"]`` draws chosen layers as their neurons (``neurons.py``);
``highlight=err`` marks the op a ``GradcheckError`` blames (``highlight.py``).
"""

from .draw import draw_graph, render_graph
from .errors import GraphTooLargeError, GraphvizNotFoundError, VizError

__all__ = ["draw_graph", "render_graph", "VizError", "GraphTooLargeError",
           "GraphvizNotFoundError"]
