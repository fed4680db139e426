"""The one graph walk: topological order by an iterative depth-first search.

Backward (for Values and Tensors) and the graph renderer all need "every node reachable from
the root, each after all of its inputs". It is written once here, without recursion, so graphs
of any depth work (a recursive walk dies near Python's recursion limit of ~1,000 nodes).
"""

__all__ = ["topological_order"]


def topological_order(root, parents_of):
    """Nodes reachable from ``root`` (by ``parents_of(node)``), inputs first, ``root`` last.

    Inputs of a node are visited in the order ``parents_of`` gives them. The stack holds each
    open node with an iterator over its remaining inputs, so every node is pushed once.
    """
    order, visited = [], {id(root)}
    stack = [(root, iter(parents_of(root)))]
    while stack:
        node, inputs = stack[-1]
        for parent in inputs:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parents_of(parent))))
                break
        else:
            stack.pop()
            order.append(node)
    return order
