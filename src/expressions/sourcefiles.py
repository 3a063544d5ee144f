"""Which of the project's source files a script runs, found by following its imports.

Two things must agree on that list: a stage's `deps:` in dvc.yaml (a module missing there is a
stale result DVC never rebuilds; tests/test_structure.py checks every stage) and the training
checkpoint's fingerprint (a resumed run must not mix code versions). Both take it from here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "expressions"
SRC = Path(__file__).resolve().parent.parent  # the folder holding the package


def module_file(name: str) -> Path | None:
    """The file of module `name` ("expressions.data.merge"), or None outside the package."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Module names that `path` imports anywhere (top level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # submodules
    return names


def parents(name: str) -> list[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def local_modules(script: Path) -> list[Path]:
    """Every package source file `script` runs, directly or through other modules, sorted."""
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        for name in imported_modules(todo.pop()):
            for module in (*parents(name), name):
                path = module_file(module)
                if path is not None and path not in seen:
                    seen.add(path)
                    todo.append(path)
    return sorted(seen)
