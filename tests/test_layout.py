"""The layout shows the architecture: imports go downward only (no cycle among tinygrad_edu,
kernels and viz), and no import hides inside a function except of an optional heavy package."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Source folder -> the package it is installed as (setup.cfg's package_dir).
PACKAGES = {"tinygrad_edu": "tinygrad_edu", "kernels": "tinygrad_edu.kernels",
            "viz": "tinygrad_edu.viz"}
# Imported on first use on purpose: compilers and Graphviz (and what imports them).
HEAVY = ("numba", "llvmlite", "graphviz", "mpi4py", "threadpoolctl")


def _modules():
    """{dotted module name: (path, is_package)} for every module of the three folders."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join([package] + (parts[:-1] if is_package else parts))] = (path,
                                                                                  is_package)
    return found


MODULES = _modules()


def _imported(module, node):
    """The absolute names an import statement in ``module`` loads: for ``from pkg import x``,
    ``pkg.x`` when that is one of our modules, else ``pkg``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if MODULES[module][1] else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        package = ".".join(base + ([node.module] if node.module else []))
    else:
        package = node.module
    return [f"{package}.{a.name}" if f"{package}.{a.name}" in MODULES else package
            for a in node.names]


def _ancestors(name):
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph():
    """{module: modules it makes Python import at import time}. Importing ``a.b.c`` first runs
    the packages ``a`` and ``a.b`` unless the importer is inside them: those count too (that is
    how ``init`` -> ``nn.activations`` used to run ``nn/__init__`` and come back to ``init``)."""
    graph = {}
    for name, (path, _) in MODULES.items():
        edges = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue   # runs later, not at import time
            for statement in ast.walk(node):
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    for target in _imported(name, statement):
                        edges.update(m for m in {target} | (_ancestors(target)
                                                            - _ancestors(name) - {name})
                                     if m in MODULES and m != name)
        graph[name] = edges
    return graph


def find_cycle(graph):
    """A list ``[a, b, ..., a]`` of modules importing each other in a circle, or None."""
    state = {}
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = "open"
        while stack:
            for child in stack[-1]:
                if state.get(child) == "open":
                    return path[path.index(child):] + [child]
                if child not in state:
                    state[child] = "open"
                    path.append(child)
                    stack.append(iter(sorted(graph.get(child, ()))))
                    break
            else:
                stack.pop()
                state[path.pop()] = "done"
    return None


def test_the_module_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_search_finds_the_cycles_the_old_layout_had():
    old = {"tinygrad_edu.init": {"tinygrad_edu.nn"}, "tinygrad_edu.nn": {"tinygrad_edu.layers"},
           "tinygrad_edu.layers": {"tinygrad_edu.init"}, "tinygrad_edu.errors": set()}
    assert find_cycle(old) == ["tinygrad_edu.init", "tinygrad_edu.nn", "tinygrad_edu.layers",
                               "tinygrad_edu.init"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _loads_heavy(target):
    if target.split(".")[0] in HEAVY:
        return True
    if target not in MODULES:
        return False
    tree = ast.parse(MODULES[target][0].read_text(encoding="utf-8"))
    return any(t.split(".")[0] in HEAVY for n in tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom)) for t in _imported(target, n))


def test_imports_inside_functions_are_only_of_heavy_packages_or_in_the_programs():
    offenders = []
    for name, (path, _) in MODULES.items():
        if name.startswith("tinygrad_edu.apps"):
            continue   # the CLI imports each command's modules when that command runs
        for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for statement in ast.walk(func):
                if isinstance(statement, (ast.Import, ast.ImportFrom)) and not all(
                        _loads_heavy(t) for t in _imported(name, statement)):
                    offenders.append(f"{path.relative_to(ROOT)}:{statement.lineno} in "
                                     f"{func.name}: {', '.join(_imported(name, statement))}")
    assert offenders == []
