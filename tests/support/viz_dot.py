"""What the viz tests share: a reader for the DOT text that tinygrad_edu.viz writes, hostile
labels, the textbook neuron and the text of a rendered SVG.

It relies on one property the renderer guarantees: every statement is on one line (user text
never carries a raw newline into the source). Reading the source, not the Drawing, means the
tests check what Graphviz will actually see.
"""

import html
import re

from tinygrad_edu import Value

_NODE = re.compile(r"^\s*([A-Za-z_]\w*) \[(.*)\]$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")
_CLUSTER = re.compile(r"^\s*subgraph (cluster_\d+) \{$")
_CLUSTER_LABEL = re.compile(r"^\s*graph \[.*label=<<B>(.*?)</B>(.*?)> ")
_KEYWORDS = {"graph", "node", "edge"}


class Dot:
    """Nodes (name -> attribute text), edges, clusters (name -> the bold first line of its
    label; ``cluster_notes``: the markup after it), cluster membership and the groups of
    nodes put on one rank."""

    def __init__(self, source):
        self.source = source
        self.nodes, self.edges, self.clusters, self.cluster_notes = {}, [], {}, {}
        self.cluster_of = {}     # node name -> tuple of enclosing cluster names, outermost first
        self.same_ranks = []     # lists of node names in {rank=same ...} blocks
        stack = []               # open blocks: a cluster's name, or a list for a rank block
        for line in source.splitlines()[1:]:
            clusters = tuple(b for b in stack if isinstance(b, str))
            if m := _CLUSTER.match(line):
                stack.append(m.group(1))
            elif line.strip() == "{":
                stack.append([])
                self.same_ranks.append(stack[-1])
            elif line.strip() == "}":
                if stack:   # else it closes the digraph itself
                    stack.pop()
            elif (m := _CLUSTER_LABEL.match(line)) and clusters:
                self.clusters[clusters[-1]] = m.group(1)
                self.cluster_notes[clusters[-1]] = m.group(2)
            elif m := _EDGE.match(line):
                self.edges.append((m.group(1), m.group(2), m.group(3) or ""))
            elif (m := _NODE.match(line)) and m.group(1) not in _KEYWORDS:
                self.nodes[m.group(1)] = m.group(2)
                self.cluster_of[m.group(1)] = clusters
            elif stack and isinstance(stack[-1], list) and re.fullmatch(r"\s*\w+", line):
                stack[-1].append(line.strip())

    def find(self, text):
        """Names of the nodes whose attributes contain ``text``."""
        return [name for name, attrs in self.nodes.items() if text in attrs]

    def one(self, text):
        found = self.find(text)
        assert len(found) == 1, f"expected one node with {text!r}, found {found}"
        return found[0]

    def fill(self, name):
        m = re.search(r'(?:fillcolor|BGCOLOR)="(#[0-9a-f]{6})"', self.nodes[name])
        return m.group(1) if m else None

    def cluster_named(self, label):
        found = [c for c, lab in self.clusters.items() if lab == label]
        assert len(found) == 1, f"expected one cluster {label!r}, got {self.clusters}"
        return found[0]


HOSTILE = [
    'say "hi"',
    '"] ; evil [shape=star label="x',
    "<b>bold</b> & <<html>>",
    "{record|fields}",
    "back\\slash \\N \\G \\L",
    "trailing backslash\\",
    "two\nlines",
    "bell\x07 and nul\x00",
    "lone surrogate \ud800",
]


def textbook_neuron():
    """The chapter's two-input neuron o = tanh(x1*w1 + x2*w2 + b), after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


def svg_text(path):
    """The strings an SVG file displays, unescaped."""
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith(("<?xml", "<svg", "<!--"))
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
