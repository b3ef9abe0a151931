"""The import graph of the ``harness`` package: floors, counts, upward imports and circles.

Usage: ``python scripts/import_graph.py [--root harness] [--lazy]``. Exit status 1 when module-level imports
form a circle, 0 otherwise (``tests/test_architecture.py`` asserts the same through :func:`build_graph`, and that
lazy imports close no circle either).

Only the standard library (``ast``): the files are parsed, never imported. Two kinds of edges:

* module-level imports (anywhere outside a function body, ``try``/``if`` blocks included) run when the module
  is imported: they decide the floors and are the only edges that can form an import circle;
* lazy imports (inside a function) run on first call; an upward one (to a module on the same or a higher
  floor) is fine at run time but would close a circle if it were moved to the top of the file.

Imports under ``if TYPE_CHECKING:`` never run and are left out. Importing ``a.b.c`` also runs the package
``a.b``'s ``__init__`` first; that implicit edge is not counted (the usual convention of import linters), so a
package may re-export from its own submodules.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Graph", "build_graph", "circles", "floors", "long_files", "main", "upward_imports"]

MAX_LINES = 500
"""The most lines a file under ``harness/`` may have (``tests/test_architecture.py``)."""


@dataclass
class Graph:
    """Modules (dotted names) and their imports of other modules of the same package."""

    files: dict[str, Path] = field(default_factory=dict)
    eager: dict[str, set[str]] = field(default_factory=dict)
    """Module-level imports: importer -> imported modules."""
    lazy: dict[str, set[str]] = field(default_factory=dict)
    """Imports inside function bodies: importer -> imported modules."""

    def all_edges(self) -> dict[str, set[str]]:
        """Module-level and lazy imports together: a circle here is one a refactor can turn into a real one."""
        return {m: self.eager[m] | self.lazy[m] for m in self.eager}


def module_name(path: Path, root: Path) -> str:
    """``harness/engine/device.py`` -> ``harness.engine.device``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement with whether it runs at module level (False: inside a function)."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                yield from (pair for stmt in child.orelse for pair in walk_one(stmt, in_function))
                continue
            yield from walk_one(child, in_function)

    def walk_one(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, not in_function
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from walk(node, True)
        else:
            yield from walk(node, in_function)

    yield from walk(tree, False)


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, known: set[str]) -> set[str]:
    """The package modules an import statement loads (the longest known prefix of each dotted name)."""

    def known_prefix(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the importer's package, one level up per extra dot
            package = importer if is_package else importer.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        for alias in node.names:  # `from pkg import sub` loads the submodule when there is one
            names.append(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    found = {known_prefix(n) for n in names}
    return {m for m in found if m is not None and m != importer}


def build_graph(root: Path) -> Graph:
    """Parse every ``*.py`` under ``root`` (a package folder) and keep the imports between its modules."""
    graph = Graph()
    for path in sorted(root.rglob("*.py")):
        graph.files[module_name(path, root)] = path
    known = set(graph.files)
    for name, path in graph.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph.eager[name], graph.lazy[name] = set(), set()
        for node, module_level in _imports(tree):
            targets = _targets(node, name, path.name == "__init__.py", known)
            (graph.eager if module_level else graph.lazy)[name].update(targets)
        graph.lazy[name] -= graph.eager[name]
    return graph


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the package's module count
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found, key=lambda c: (-len(c), c))


def floors(edges: dict[str, set[str]]) -> dict[str, int]:
    """Floor 0: imports no package module; otherwise one above the highest module it imports.

    The members of a circle share a floor (the circle's imports of one another are ignored)."""
    group = {m: tuple(c) for c in circles(edges) for m in c}
    floor: dict[str, int] = {}

    def height(v: str) -> int:
        if v not in floor:
            members = group.get(v, (v,))
            for m in members:
                floor[m] = 0  # provisional, so that the circle's own edges end the recursion
            deps = {w for m in members for w in edges.get(m, ()) if w not in members}
            h = 1 + max((height(w) for w in deps), default=-1)
            for m in members:
                floor[m] = h
        return floor[v]

    for v in sorted(edges):
        height(v)
    return floor


def upward_imports(graph: Graph) -> list[tuple[str, str, str]]:
    """(importer, imported, kind) for imports that do not point down a floor: module-level ones inside a circle
    (kind ``circle``) and lazy ones to the same or a higher floor (kind ``lazy``)."""
    floor = floors(graph.eager)
    ups = [(a, b, "circle") for a, bs in graph.eager.items() for b in bs if floor[b] >= floor[a]]
    ups += [(a, b, "lazy") for a, bs in graph.lazy.items() for b in bs if floor[b] >= floor[a]]
    return sorted(ups)


def long_files(root: Path, limit: int = MAX_LINES) -> dict[Path, int]:
    """Files under ``root`` with more than ``limit`` lines, and their line counts."""
    counts = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in sorted(root.rglob("*.py"))}
    return {p: n for p, n in counts.items() if n > limit}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1] / "harness",
                    help="the package folder (default: harness/ beside scripts/)")
    ap.add_argument("--lazy", action="store_true", help="also list every lazy (function-level) import")
    args = ap.parse_args(argv)
    graph = build_graph(args.root)
    floor = floors(graph.eager)
    found = circles(graph.eager)
    ups = upward_imports(graph)
    top = max(floor.values(), default=0)
    print(f"floors of {args.root.name}/ (module-level imports point down; floor 0 imports no {args.root.name} "
          f"module):")
    for level in range(top, -1, -1):
        names = sorted(m for m, f in floor.items() if f == level)
        print(f"  floor {level:2d} ({len(names)}): {', '.join(names)}")
    fan_in = {m: 0 for m in graph.files}
    for bs in graph.eager.values():
        for b in bs:
            fan_in[b] += 1
    busiest = sorted(fan_in.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    print("most imported (module-level): " + ", ".join(f"{m} {n}" for m, n in busiest))
    print("upward imports:" + ("" if ups else " none"))
    for a, b, kind in ups:
        print(f"  {a} -> {b} ({kind}, floor {floor[a]} -> {floor[b]})")
    if args.lazy:
        print("lazy imports:")
        for a in sorted(graph.lazy):
            if graph.lazy[a]:
                print(f"  {a} -> {', '.join(sorted(graph.lazy[a]))}")
    print("circles (module-level):" + ("" if found else " none"))
    for c in found:
        print(f"  {' <-> '.join(c)}")
    found_lazy = [c for c in circles(graph.all_edges()) if c not in found]
    print("circles closed by lazy imports:" + ("" if found_lazy else " none"))
    for c in found_lazy:
        print(f"  {' <-> '.join(c)}")
    long = long_files(args.root)
    if long:
        print(f"files over {MAX_LINES} lines: " + ", ".join(f"{p.relative_to(args.root.parent)} {n}"
                                                         for p, n in long.items()))
    n_eager = sum(len(v) for v in graph.eager.values())
    n_lazy = sum(len(v) for v in graph.lazy.values())
    print(f"{len(graph.files)} files, {n_eager} module-level imports, {n_lazy} lazy imports, {top + 1} floors, "
          f"{len(ups)} upward, {len(found)} circles ({len(found_lazy)} more through lazy imports), "
          f"{len(long)} files over {MAX_LINES} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
