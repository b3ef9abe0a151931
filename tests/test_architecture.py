"""The package's shape: no import circles, no file over 500 lines (scripts/import_graph.py prints the picture)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "harness"

KNOWN_LAZY_CIRCLES: list[list[str]] = []
"""Circles closed only by lazy imports that are left as they are (none: ``ModelUnavailableError`` lives in
``harness.models.errors`` so that loaders need not import ``loading``, which dispatches to them)."""


def _import_graph() -> ModuleType:
    """scripts/ is not a package: load the script by path, once."""
    if "import_graph" not in sys.modules:
        spec = importlib.util.spec_from_file_location("import_graph", REPO / "scripts" / "import_graph.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["import_graph"] = module
        spec.loader.exec_module(module)
    return sys.modules["import_graph"]


def test_no_module_level_import_circle() -> None:
    ig = _import_graph()
    assert ig.circles(ig.build_graph(HARNESS).eager) == []


def test_lazy_imports_close_no_new_circle() -> None:
    """A lazy import that closes a circle becomes a real circle the day someone moves it to the top of a file."""
    ig = _import_graph()
    assert [c for c in ig.circles(ig.build_graph(HARNESS).all_edges()) if c not in KNOWN_LAZY_CIRCLES] == []


def test_no_file_over_500_lines() -> None:
    ig = _import_graph()
    assert {str(p.relative_to(REPO)): n for p, n in ig.long_files(HARNESS, 500).items()} == {}


def test_the_graph_reads_imports_as_python_runs_them(tmp_path: Path) -> None:
    """Module-level vs lazy, relative imports, ``from pkg import submodule``, TYPE_CHECKING left out."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.a import f\n")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n"
                              "def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text("from . import a\nfrom .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("import pkg.b\n")
    ig = _import_graph()
    graph = ig.build_graph(pkg)
    assert graph.eager == {"pkg": {"pkg.a"}, "pkg.a": set(), "pkg.b": {"pkg.a", "pkg.sub.c"}, "pkg.sub": set(),
                           "pkg.sub.c": {"pkg.b"}}
    assert graph.lazy["pkg.a"] == {"pkg.b"}
    assert ig.circles(graph.eager) == [["pkg.b", "pkg.sub.c"]]
    assert ig.circles(graph.all_edges()) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert ig.floors(graph.eager) == {"pkg": 1, "pkg.a": 0, "pkg.b": 1, "pkg.sub": 0, "pkg.sub.c": 1}
