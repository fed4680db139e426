"""Iterative walk over a computation graph (no recursion, so any depth works)."""

__all__ = ["collect"]


def collect(root, parents_of):
    """Every node reachable from ``root`` and the edges between them.

    ``parents_of(node)`` gives the inputs of ``node``. Returns ``(nodes, edges)``: ``nodes`` in
    topological order (each after all of its inputs, ``root`` last) and ``edges`` as
    ``(input_index, node_index, position)`` triples, ``position`` being the input's place in
    ``parents_of(node)``. A node used twice by one op (``x * x``) gives two edges.
    """
    nodes, index, seen = [], {}, set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            index[id(node)] = len(nodes)
            nodes.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(parents_of(node)):
            if id(parent) not in seen:
                stack.append((parent, False))
    edges = [(index[id(parent)], i, position)
             for i, node in enumerate(nodes)
             for position, parent in enumerate(parents_of(node))]
    return nodes, edges
