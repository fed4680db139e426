"""Errors raised while drawing graphs, all subclasses of ``TinygradEduError``.

This module must not import graphviz: ``import tinygrad_edu.viz`` stays light and works even
where the graphviz package or the ``dot`` program is missing.
"""

from ..errors import TinygradEduError

__all__ = ["VizError", "GraphTooLargeError", "GraphvizNotFoundError", "INSTALL_HINTS"]

INSTALL_HINTS = ("Install Graphviz's dot program:\n"
                 "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
                 "  macOS:          brew install graphviz\n"
                 "  conda:          conda install -c conda-forge graphviz\n"
                 "then check that `dot -V` works in a new terminal.")


class VizError(TinygradEduError, ValueError):
    """A drawing option or input that draw_graph / render_graph cannot use."""


class GraphTooLargeError(VizError):
    """The graph has more nodes than ``max_nodes``; dot would take minutes or hours on it."""

    def __init__(self, message, node_count):
        super().__init__(message)
        self.node_count = node_count


class GraphvizNotFoundError(TinygradEduError, RuntimeError):
    """Graphviz's ``dot`` program is not installed (or not on PATH), so nothing was rendered.

    ``source`` holds the DOT text and ``source_path`` the file it was saved to (None when
    nothing was written), so the drawing can be rendered later or elsewhere.
    """

    def __init__(self, message, source, source_path=None):
        super().__init__(message)
        self.source = source
        self.source_path = source_path
