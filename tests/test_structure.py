"""The wiring: every stage depends on all the code it runs, imports go downward, paths agree."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from expressions import paths
from expressions.sourcefiles import SRC, local_modules

ROOT = Path(__file__).resolve().parents[1]
DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text())
STAGES = {name: stage.get("do", stage) for name, stage in DVC["stages"].items()}
LAYERS = ("data", "training", "analysis", "serving")  # each may import only those before it


def runs_code(path: Path) -> bool:
    """False for a file that is only a docstring (a package's __init__): it runs nothing."""
    body = ast.parse(path.read_text()).body
    return not all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def script_of(stage: dict) -> Path:
    match = re.match(r"python (stages/\w+\.py)", stage["cmd"])
    assert match, f"stage command {stage['cmd']!r} does not run a stages/ script"
    return ROOT / match.group(1)


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == dep or rel.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_name_every_module_its_script_imports(name):
    stage = STAGES[name]
    script = script_of(stage)
    deps = [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]
    missing = [
        p.relative_to(ROOT).as_posix()
        for p in [script, *local_modules(script)]
        if runs_code(p) and not covered(p, deps)
    ]
    assert not missing, f"stage {name}: deps miss {', '.join(missing)}"


def test_deps_check_catches_a_missing_module():
    train = STAGES["train"]
    deps = [d for d in train["deps"] if d != "src/expressions/training"]
    uncovered = [
        p for p in local_modules(script_of(train)) if runs_code(p) and not covered(p, deps)
    ]
    assert any(p.name == "loop.py" for p in uncovered)


def test_imports_go_downward_and_nothing_imports_cli():
    for path in (SRC / "expressions").rglob("*.py"):
        rel = path.relative_to(SRC / "expressions")
        layer = rel.parts[0] if len(rel.parts) > 1 else None
        allowed = LAYERS[: LAYERS.index(layer) + 1] if layer in LAYERS else LAYERS
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for imported in names:
                parts = imported.split(".")
                if parts[0] != "expressions" or len(parts) < 2:
                    continue
                assert parts[1] != "cli" or rel.name == "__main__.py", f"{rel} imports cli"
                if parts[1] in LAYERS and layer in LAYERS:
                    assert parts[1] in allowed, f"{rel} ({layer}) imports {imported}"


def test_paths_module_and_dvc_yaml_spell_the_same_paths():
    text = (ROOT / "dvc.yaml").read_text()
    declared = [v for k, v in vars(paths).items() if k.isupper() and isinstance(v, Path)]
    unused_by_dvc = {paths.CHECKPOINTS, paths.PARAMS, paths.MANIFEST}  # not stage outputs
    for path in declared:
        if path not in unused_by_dvc:
            assert path.as_posix() in text, f"paths.py's {path} is not in dvc.yaml"
