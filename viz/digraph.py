"""Turning a ``Drawing`` into a ``graphviz.Digraph``; the only module that imports graphviz.

It is imported inside ``draw_graph``, never at ``import tinygrad_edu.viz`` time.
"""

import os
import shlex

import graphviz

from .errors import INSTALL_HINTS, GraphvizNotFoundError

__all__ = ["Digraph", "to_digraph", "FORMATS"]

FORMATS = graphviz.FORMATS
_FLIPPED = {"LR": "RL", "RL": "LR", "TB": "BT", "BT": "TB"}
_CLUSTER_FILLS = ("#f6f8fb", "#eaf0f8")   # nested clusters alternate so their borders show
_FONT = "Helvetica"


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose ``render`` and ``pipe`` explain how to install Graphviz.

    Without the ``dot`` program they raise ``GraphvizNotFoundError`` (a ``RuntimeError``) with
    install commands; ``render`` has already saved the DOT source by then and the error names
    the file, and ``.source`` always holds the DOT text.
    """

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            # graphviz saves the source to self.filepath before it starts dot.
            path = self.filepath if os.path.exists(self.filepath) else None
            fmt = kwargs.get("format") or self.format or "svg"
            target = os.fspath(kwargs.get("outfile")
                               or os.path.splitext(path or "graph.gv")[0] + "." + fmt)
            saved = (f"The DOT source was saved to {path}; once Graphviz is installed, run "
                     f"`dot -T{fmt} {shlex.quote(path)} -o {shlex.quote(target)}`." if path
                     else "Save the DOT source with graph.save('graph.gv').")
            raise GraphvizNotFoundError(f"render: Graphviz's `dot` program was not found, so "
                                        f"nothing was drawn. {saved}\n{INSTALL_HINTS}",
                                        self.source, path) from exc

    def pipe(self, *args, **kwargs):
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotFoundError(
                "pipe: Graphviz's `dot` program was not found, so nothing was drawn. The DOT "
                "text is in graph.source; save it with graph.save('graph.gv').\n"
                + INSTALL_HINTS, self.source) from exc


def to_digraph(drawing, *, rankdir, backward):
    """A ``Digraph`` laid out left to right (``rankdir``) along the forward pass.

    For ``backward`` every edge is reversed (gradients flow from the output to the inputs) and
    the rank direction is flipped, so the picture keeps the forward pass's geometry.
    """
    graph = Digraph(
        name="computation_graph",
        graph_attr={"rankdir": _FLIPPED[rankdir] if backward else rankdir, "nodesep": "0.25",
                    "ranksep": "0.4", "fontname": _FONT, "newrank": "true"},
        node_attr={"fontname": _FONT, "fontsize": "11", "shape": "box",
                   "style": "rounded,filled", "fillcolor": "#ffffff", "color": "#666666",
                   "margin": "0.1,0.05"},
        edge_attr={"color": "#555555", "arrowsize": "0.7", "fontname": _FONT})
    bodies = {None: graph}
    label_side = "r" if backward else "l"   # dot mirrors "left" in a right-to-left layout
    for number, (key, (label, _)) in enumerate(drawing.clusters.items()):
        depth = drawing.cluster_depth(key)
        bodies[key] = graphviz.Digraph(name=f"cluster_{number}", graph_attr={
            "label": label, "style": "rounded,filled", "color": "#8a99ad",
            "fillcolor": _CLUSTER_FILLS[depth % 2], "labeljust": label_side, "fontsize": "12",
            "fontname": _FONT, "margin": "10"})
    for name, label, cluster, attrs in drawing.nodes:
        bodies[cluster].node(name, label, **attrs)
    for cluster, names in drawing.same_ranks:
        with bodies[cluster].subgraph(graph_attr={"rank": "same"}) as row:
            for name in names:
                row.node(name)
    # graphviz copies a subgraph's lines when it is added: attach the deepest clusters first.
    for key in sorted(drawing.clusters, key=drawing.cluster_depth, reverse=True):
        bodies[drawing.clusters[key][1]].subgraph(bodies[key])
    for tail, head, attrs in drawing.edges:
        if backward:
            tail, head = head, tail
        graph.edge(tail, head, **attrs)
    return graph
