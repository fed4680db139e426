"""Turning a ``Drawing`` into a ``graphviz.Digraph``; the only module that imports graphviz.

It is imported inside ``draw_graph``, never at ``import tinygrad_edu.viz`` time.
"""

import os
import shlex
import subprocess

import graphviz

from ..errors import TinygradEduError
from .errors import INSTALL_HINTS, GraphvizNotFoundError, VizError

__all__ = ["Digraph", "to_digraph", "FORMATS", "DOT_TIMEOUT", "DotTimeoutError"]

FORMATS = graphviz.FORMATS
# Seconds render_graph lets dot run: far beyond what a readable graph takes (a second or two
# for max_nodes=500), short of the minutes a huge one can take.
DOT_TIMEOUT = 120.0
_FLIPPED = {"LR": "RL", "RL": "LR", "TB": "BT", "BT": "TB"}
_CLUSTER_FILLS = ("#f6f8fb", "#eaf0f8")   # nested clusters alternate so their borders show
_FONT = "Helvetica"


class DotTimeoutError(TinygradEduError, TimeoutError):
    """Graphviz's ``dot`` did not finish within ``render_graph``'s ``timeout`` and was stopped;
    ``source_path`` is where the DOT source was saved."""

    def __init__(self, message, source_path):
        super().__init__(message)
        self.source_path = source_path


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose ``render`` and ``pipe`` explain how to install Graphviz.

    Without the ``dot`` program they raise ``GraphvizNotFoundError`` (a ``RuntimeError``) with
    install commands; ``render`` has already saved the DOT source by then and the error names
    the file, and ``.source`` always holds the DOT text. ``node_count`` and ``has_clusters``
    describe the drawing (for the advice of ``render_file``).
    """

    node_count = 0
    has_clusters = False

    def render_file(self, path, format, timeout=DOT_TIMEOUT, advice=""):
        """Lay the graph out with dot into ``path`` (in ``format``), stopping dot after
        ``timeout`` seconds (None: no limit); returns ``path``.

        The DOT source is written beside ``path`` (``.gv``) first and removed once the picture
        is written; it stays when dot is missing (``GraphvizNotFoundError``), is stopped
        (``DotTimeoutError``, whose message adds ``advice``) or fails (``VizError``).
        """
        source = os.path.splitext(path)[0] + ".gv"
        with open(source, "w", encoding="utf-8") as f:
            f.write(self.source)
        try:
            subprocess.run([self.engine, f"-T{format}", "-o", path, source], check=True,
                           capture_output=True, timeout=timeout)
        except FileNotFoundError:
            target = shlex.quote(path)
            raise GraphvizNotFoundError(
                f"render: Graphviz's `dot` program was not found, so nothing was drawn. The DOT "
                f"source was saved to {source}; once Graphviz is installed, run "
                f"`dot -T{format} {shlex.quote(source)} -o {target}`.\n{INSTALL_HINTS}",
                self.source, source) from None
        except subprocess.TimeoutExpired:
            if os.path.exists(path):
                os.remove(path)   # whatever dot had written of it is unusable
            raise DotTimeoutError(
                f"render_graph: Graphviz's dot was stopped after {timeout:g} s laying out "
                f"{self.node_count:,} nodes, and nothing was written to {path}; the DOT source "
                f"is in {source}. {advice}".rstrip(), source) from None
        except subprocess.CalledProcessError as exc:
            message = exc.stderr.decode(errors="replace").strip()
            raise VizError(f"render_graph: dot failed (exit status {exc.returncode}) drawing "
                           f"{path}: {message}; the DOT source is in {source}") from None
        os.remove(source)
        return path

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
    graph.node_count, graph.has_clusters = len(drawing.nodes), bool(drawing.clusters)
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
