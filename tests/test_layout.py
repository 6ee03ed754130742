"""The package's shape: modules that import each other in one direction, no module reaching
into another's private names, public functions short enough to read."""

import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / "transfer"
#: The native modules' private names are the way in to the kernels.
NATIVE = {"_native", "_C", "_cuda"}
MAX_LINES = 80  # of code, the docstring not counted


def _modules():
    return {p.stem: ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.glob("*.py"))}


def _imports(tree):
    """(module imported, names taken from it) for every relative import, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                yield node.module.split(".")[0], [a.name for a in node.names]
            else:
                for a in node.names:
                    yield a.name, []


def test_no_import_loop():
    modules = _modules()
    graph = {name: {m for m, _ in _imports(tree) if m in modules and m != "__init__"}
             for name, tree in modules.items()}
    done, path = set(), []

    def visit(name):
        if name in path:
            pytest.fail("import loop: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        path.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_no_private_names_of_other_modules():
    taken = [(name, module, n) for name, tree in _modules().items() for module, names in _imports(tree)
             for n in names if n.startswith("_") and not n.startswith("__") and module not in NATIVE]
    assert taken == []


def test_public_functions_are_short():
    long = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                body = node.body
                if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]  # the docstring
                if body and body[-1].end_lineno - body[0].lineno + 1 > MAX_LINES:
                    long.append(f"{name}.{node.name}")
    assert long == []
