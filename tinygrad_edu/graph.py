"""The one graph walk: topological order by an iterative depth-first search.

Backward (for Values and Tensors) and the graph renderer all need "every node reachable from
the root, each after all of its inputs". It is written once here, without recursion, so graphs
of any depth work (a recursive walk dies near Python's recursion limit of ~1,000 nodes).
"""

__all__ = ["topological_order"]


def topological_order(root, parents_of):
    """Nodes reachable from ``root`` (by ``parents_of(node)``), inputs first, ``root`` last.

    Inputs of a node are visited in the order ``parents_of`` gives them.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(parents_of(node)):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order
