"""Iterative walk over a computation graph (no recursion, so any depth works)."""

from ..graph import topological_order

__all__ = ["collect"]


def collect(root, parents_of):
    """Every node reachable from ``root`` and the edges between them.

    ``parents_of(node)`` gives the inputs of ``node``. Returns ``(nodes, edges)``: ``nodes`` in
    topological order (each after all of its inputs, ``root`` last) and ``edges`` as
    ``(input_index, node_index, position)`` triples, ``position`` being the input's place in
    ``parents_of(node)``. A node used twice by one op (``x * x``) gives two edges.
    """
    nodes = topological_order(root, parents_of)
    index = {id(node): i for i, node in enumerate(nodes)}
    edges = [(index[id(parent)], i, position)
             for i, node in enumerate(nodes)
             for position, parent in enumerate(parents_of(node))]
    return nodes, edges
