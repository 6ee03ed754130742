"""The package's shape: modules that import each other in one direction, no module reaching
into another's private names, public functions short enough to read."""

import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / "transfer"
#: The native modules' private names are the way in to the kernels.
NATIVE = {"transfer._native", "transfer._C", "transfer._cuda"}
MAX_LINES = 80  # of code, the docstring not counted


def _modules():
    """{dotted name: syntax tree} of every module of the package, subpackages included."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = (ast.parse(path.read_text(), str(path)), parts[-1] == "__init__")
    return out


def _imports(name, tree, is_package):
    """(absolute module imported, names taken from it) for every import of the package's own
    modules, at any depth."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[:len(here) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                yield module, [a.name for a in node.names]
            else:
                for a in node.names:
                    yield f"{module}.{a.name}", []


def test_no_import_loop():
    modules = _modules()
    graph = {}
    for name, (tree, is_package) in modules.items():
        deps = set()
        for module, names in _imports(name, tree, is_package):
            # a package's own __init__ is what "from . import x" runs first; follow the module
            for m in [module, *(f"{module}.{n}" for n in names)]:
                parts = m.split(".")  # importing a.b.c runs the packages a.b (and a) first
                deps |= {p for p in (".".join(parts[:i]) for i in range(2, len(parts) + 1)) if p in modules}
        graph[name] = {d for d in deps if d != name and not name.startswith(d + ".")}
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
    taken = [(name, module, n) for name, (tree, pkg) in _modules().items()
             for module, names in _imports(name, tree, pkg)
             for n in names if n.startswith("_") and not n.startswith("__") and module not in NATIVE
             and not (n in ("_C", "_cuda", "_moved") and module == "transfer")]
    assert taken == []


def test_public_functions_are_short():
    long = []
    for name, (tree, _) in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                body = node.body
                if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]  # the docstring
                if body and body[-1].end_lineno - body[0].lineno + 1 > MAX_LINES:
                    long.append(f"{name}.{node.name}")
    assert long == []
