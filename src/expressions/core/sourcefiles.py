"""Which of the project's source files a script runs, found by following its imports.

Two things must agree on that list: what a stage depends on (a module missing is a stale result
DVC never rebuilds, an extra one a needless re-run) and the training checkpoint's fingerprint (a
resumed run must not mix code versions). Both take it from here: the `code` stage writes each
stage script's list, with a hash of every file on it, to code/<script>.json, and each stage
depends on its note alone (dvc.yaml), so editing a module re-runs exactly the stages that run it.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = "expressions"
SRC = Path(__file__).resolve().parents[2]  # the folder holding the package


def module_file(name: str, src: Path = SRC) -> Path | None:
    """The file of module `name` ("expressions.data.merge") under `src`, or None outside the
    package."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = src.joinpath(*name.split("."))
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


def local_modules(script: Path, src: Path = SRC) -> list[Path]:
    """Every package source file `script` runs, directly or through other modules, sorted;
    `src`: the folder holding the package (a project copy's own src/)."""
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        for name in imported_modules(todo.pop()):
            for module in (*parents(name), name):
                path = module_file(module, src)
                if path is not None and path not in seen:
                    seen.add(path)
                    todo.append(path)
    return sorted(seen)


def code_note(script: Path, root: Path) -> dict[str, str]:
    """{path relative to root: sha256} of `script` and every file of root/src/ it runs: the
    files DVC sees in that project, whichever copy of the package is installed."""
    root = root.resolve()
    files = [Path(script).resolve(), *local_modules(script, root / "src")]
    return {
        f.relative_to(root).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest() for f in files
    }
