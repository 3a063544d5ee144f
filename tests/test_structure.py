"""The wiring: every stage depends on exactly the code it runs, imports go downward, paths agree."""

import ast
import json
import re
import subprocess
import sys
from modulefinder import ModuleFinder
from pathlib import Path

import pytest

from expressions.config import read_yaml
from expressions.core import paths
from expressions.core.sourcefiles import SRC, code_note

ROOT = Path(__file__).resolve().parents[1]
DVC = read_yaml(ROOT / "dvc.yaml")
STAGES = {name: stage.get("do", stage) for name, stage in DVC["stages"].items()}
# Each layer may import only itself and those before it; nothing imports core.cli but entry points.
LAYERS = ("core", "data", "config", "training", "analysis", "release", "serving")


def script_of(stage: dict) -> Path:
    match = re.match(r"python (stages/\w+\.py)", stage["cmd"])
    assert match, f"stage command {stage['cmd']!r} does not run a stages/ script"
    return ROOT / match.group(1)


def code_deps(stage: dict) -> list[str]:
    deps = [d if isinstance(d, str) else next(iter(d)) for d in stage.get("deps", [])]
    return [d for d in deps if d.startswith(("stages", "src", "code"))]


@pytest.mark.parametrize("name", sorted(set(STAGES) - {"code"}))
def test_a_stage_depends_on_its_code_note_and_on_no_source_file(name):
    """Its note lists exactly what it runs; a source file named as well is an extra dep (a
    needless re-run), and a stage without its note would be a stale result."""
    stage = STAGES[name]
    assert code_deps(stage) == [f"code/{script_of(stage).stem}.json"], name


def test_the_code_stage_reads_all_code_and_writes_a_note_per_stage_script(tmp_path):
    code = STAGES["code"]
    assert sorted(code_deps(code)) == ["src/expressions", "stages"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "code.py")], cwd=tmp_path, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    written = {p.stem for p in (tmp_path / paths.CODE).glob("*.json")}
    assert written == {script_of(s).stem for n, s in STAGES.items() if n != "code"}
    note = json.loads((tmp_path / paths.CODE / "train.json").read_text())
    assert note["files"] == code_note(ROOT / "stages" / "train.py", ROOT)


class ProjectFinder(ModuleFinder):
    """Python's own import scanner (bytecode, not our AST walk), kept to this package."""

    def import_hook(self, name, caller=None, fromlist=None, level=-1):
        if name.split(".")[0] in ("expressions", ""):
            return super().import_hook(name, caller, fromlist, level)
        return None


@pytest.mark.parametrize("script", ["train", "export", "evaluate", "release"])
def test_a_note_lists_what_pythons_own_module_finder_finds(script):
    path = ROOT / "stages" / f"{script}.py"
    finder = ProjectFinder(path=[str(SRC), *sys.path])
    finder.run_script(str(path))
    found = {
        Path(m.__file__).resolve().relative_to(ROOT).as_posix()
        for m in finder.modules.values()
        if m.__file__ and Path(m.__file__).resolve().is_relative_to(SRC)
    }
    noted = set(code_note(path, ROOT)) - {f"stages/{script}.py"}
    assert noted == found


def test_export_runs_no_web_app_and_no_data_parser():
    noted = code_note(ROOT / "stages" / "export.py", ROOT)
    assert not [
        f
        for f in noted
        if f.startswith(("src/expressions/serving", "src/expressions/data/sources"))
    ]


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
                assert parts[1:3] != ["core", "cli"] or rel.name == "__main__.py", (
                    f"{rel} imports cli"
                )
                if parts[1] in LAYERS and layer in LAYERS:
                    assert parts[1] in allowed, f"{rel} ({layer}) imports {imported}"


def test_paths_module_and_dvc_yaml_spell_the_same_paths():
    text = (ROOT / "dvc.yaml").read_text()
    declared = [v for k, v in vars(paths).items() if k.isupper() and isinstance(v, Path)]
    unused_by_dvc = {paths.CHECKPOINTS, paths.PARAMS, paths.MANIFEST, paths.TIMINGS}  # not outputs
    for path in declared:
        if path not in unused_by_dvc:
            assert path.as_posix() in text, f"paths.py's {path} is not in dvc.yaml"
