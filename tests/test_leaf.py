"""The house's shape: the emulator is a leaf and the package has no import cycle.

The import graph is read from the source (ast over escpos809/**/*.py): every ``import`` and
``from … import``, at module level or inside a function, except those under ``if
TYPE_CHECKING:``. Parts the core may use without importing them are named by
``"module:attribute"`` references (escpos809.plugins); those are checked too.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from escpos809.plugins import resolve

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "escpos809"
EMULATOR = "escpos809.emulator"
#: the only imports of the emulator from outside it: (module, function the import is in)
ALLOWED_IMPORTS = {("escpos809.cli.emulate", "emulate")}
#: the only references to the emulator from outside it: (module, reference)
ALLOWED_REFERENCES = {
    ("escpos809.transport.uri", "escpos809.emulator:open_virtual"),
    ("escpos809.render.image", "escpos809.emulator.interpreter:read_bytes"),
}
_REFERENCE = re.compile(r"^escpos809(\.\w+)+:\w+(\.\w+)*$")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> list[tuple[str, str | None]]:
    """(imported module, enclosing function or None) for each import in the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: not imported at run time
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(up + ([child.module] if child.module else []))
                for alias in child.names:  # "from . import layout" imports the module escpos809.layout
                    full = f"{base}.{alias.name}"
                    found.append((full if full in MODULES else base, function))
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def _is_emulator(module: str) -> bool:
    return module == EMULATOR or module.startswith(EMULATOR + ".")


def test_nothing_outside_the_emulator_imports_it():
    offenders = [
        (name, imported, function)
        for name, path in MODULES.items()
        if not _is_emulator(name)
        for imported, function in _imports(name, path)
        if _is_emulator(imported) and (name, function) not in ALLOWED_IMPORTS
    ]
    assert offenders == []


def test_references_to_the_emulator_are_the_named_ones_and_resolve():
    found = set()
    for name, path in MODULES.items():
        if _is_emulator(name):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _REFERENCE.match(node.value)
                and _is_emulator(node.value.partition(":")[0])
            ):
                found.add((name, node.value))
    assert found == ALLOWED_REFERENCES
    for _, ref in sorted(found):
        assert callable(resolve(ref))


def test_the_package_has_no_import_cycle():
    graph = {name: {m for m, _ in _imports(name, path) if m in MODULES and m != name} for name, path in MODULES.items()}
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def connect(v: str) -> None:  # Tarjan: each strongly connected component of 2+ modules is a cycle
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    assert cycles == []


def test_the_graph_sees_the_imports_it_must_see():
    """The checks above are only as good as the graph: it finds the emulator's own imports."""
    imported = {m for m, _ in _imports(EMULATOR + ".recorder", MODULES[EMULATOR + ".recorder"])}
    assert {"escpos809.paper.draw", "escpos809.paper.ops", "escpos809.emulator.mechanism"} <= imported
    command = "escpos809.cli.emulate"
    assert ("escpos809.emulator", "emulate") in {(m, f) for m, f in _imports(command, MODULES[command])}


@pytest.mark.parametrize(
    "what",
    [
        "import escpos809.layout, escpos809.render.image, escpos809.render.escpos, escpos809.transport, "
        "escpos809.printer, escpos809.receipt, escpos809.document, escpos809.cli, escpos809.paper.draw",
        # a whole receipt, bytes and preview, and a virtual:// URI looked up but not opened
        "from escpos809 import document as d; from escpos809.receipt import preview, render; "
        "doc = d.Document((d.Text('中文 Leaf'), d.QR('x'), d.Barcode('ean8', '1234567'))); "
        "render(doc); preview(doc); from escpos809.transport.uri import LAZY_SCHEMES; LAZY_SCHEMES['virtual']",
    ],
)
def test_the_core_runs_without_the_emulator(what):
    code = f"import sys; {what}; assert 'escpos809.emulator' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
