"""A drawing as plain data (nodes, edges, clusters), the colour legend and shared checks.

The graph builders fill a ``Drawing``; only ``digraph.py`` turns it into a graphviz object, so
building and testing a drawing never needs the graphviz package or the ``dot`` program.
"""

from collections.abc import Mapping

from .errors import GraphTooLargeError, VizError

__all__ = ["COLORS", "Drawing", "check_size", "param_names"]

# The legend (also documented in draw_graph's docstring and the README).
COLORS = {
    "input": "#cfe2f3",         # light blue: data fed in (leaves that need no gradient)
    "parameter": "#d9ead3",     # light green: trainable leaves (weights, biases)
    "intermediate": "#ffffff",  # white: results of operations
    "output": "#fce5cd",        # light orange: the value the graph was drawn from
    "op": "#eeeeee",            # light grey: operation nodes of Value graphs
    "dead": "#f4cccc",          # light red: ReLU units dead for the whole batch (> 30%)
    "highlight": "#fff2cc",     # light yellow, thick red border: the node highlight= marks
}
DEAD_WARNING = 0.30
WARNING_TEXT = "#990000"
GRAD_TEXT = "#7a1f5c"


class Drawing:
    """Nodes, edges and (nested) clusters to hand to Graphviz, in the order they were added."""

    def __init__(self):
        self.nodes = []      # (name, label, cluster key or None, attrs)
        self.edges = []      # (tail, head, attrs)
        self.clusters = {}   # key -> (label, parent key or None)
        self.same_ranks = []  # (cluster key or None, node names drawn side by side)

    def node(self, name, label, cluster=None, **attrs):
        self.nodes.append((name, label, cluster, attrs))

    def edge(self, tail, head, **attrs):
        self.edges.append((tail, head, attrs))

    def cluster(self, key, label, parent=None):
        """Add a cluster (once per key); ``parent`` must have been added before."""
        if key not in self.clusters:
            self.clusters[key] = (label, parent)

    def same_rank(self, cluster, names):
        """Lay ``names`` (nodes of ``cluster``) out at the same rank, side by side."""
        self.same_ranks.append((cluster, list(names)))

    def cluster_depth(self, key):
        depth = 0
        while self.clusters[key][1] is not None:
            key, depth = self.clusters[key][1], depth + 1
        return depth


def check_size(count, max_nodes, hint):
    """Refuse to lay out more than ``max_nodes`` nodes: dot's time grows much faster than n."""
    if count > max_nodes:
        raise GraphTooLargeError(
            f"draw_graph: this graph has {count:,} nodes to draw, more than max_nodes="
            f"{max_nodes:,}; a picture that size is unreadable and can keep Graphviz busy for "
            f"minutes. {hint}",
            count)


def param_names(params, node_types):
    """``{id(node): name}`` from ``params``: a dict {name: node}, (name, node) pairs such as
    ``model.named_parameters()``, or a module (its ``named_parameters()`` are used)."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    pairs = params.items() if isinstance(params, Mapping) else params
    names = {}
    try:
        for name, node in pairs:
            if not isinstance(name, str) or not isinstance(node, node_types):
                raise TypeError
            names.setdefault(id(node), name)
    except (TypeError, ValueError):
        kinds = " or ".join(t.__name__ for t in node_types)
        raise VizError(f"draw_graph: params must be a dict {{name: {kinds}}} or (name, {kinds}) "
                       f"pairs such as model.named_parameters(), got {type(params).__name__}"
                       ) from None
    return names
