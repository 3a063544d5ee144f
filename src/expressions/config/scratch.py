"""A scratch copy of this project: a fresh git + DVC repository holding its pipeline, as a clone
would, with the params given. tools/real.py runs FER2013 in one; the end-to-end tests
(tests/helpers/e2e.py) build theirs with it too. It copies a source checkout (the folder holding
dvc.yaml above src/), so it works from a clone, not from an installed wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from expressions.config.params import write_yaml

ROOT = Path(__file__).resolve().parents[3]  # src/expressions/config/ -> the checkout
# What a clone holds that the pipeline and its make targets use (tests and docs stay behind).
PROJECT_FILES = ("dvc.yaml", "params.yaml", "stages", "src", ".gitignore", "Makefile")
PROJECT_FILES += ("benchmarks", "tools", "requirements.txt", "pyproject.toml")
BIN = Path(sys.executable).parent


def environment() -> dict[str, str]:
    """This interpreter's tools (dvc, python) first on PATH, no DVC Studio token, and none of an
    enclosing make's variables (under `make test` a `make` in the project would otherwise print
    "make[1]: Entering directory" around its output, as no user's shell does)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for name in ("DVC_STUDIO_TOKEN", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    return env


def scratch_project(path: Path, params: dict, email: str = "scratch@localhost") -> None:
    """Copy the pipeline into `path` (which may exist, empty), write `params`, and commit it in a
    new git + DVC repository whose plots render offline."""
    if not (ROOT / "dvc.yaml").is_file():
        raise RuntimeError(f"{ROOT} is not a source checkout of this project (no dvc.yaml)")
    for name in PROJECT_FILES:
        source, target = ROOT / name, path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    write_yaml(path / "params.yaml", params)
    run(path, ["git", "init", "-q", "-b", "main"], ["git", "config", "user.email", email])
    run(path, ["git", "config", "user.name", email.split("@")[0]], ["dvc", "init", "-q"])
    for folder in ("plots", "html"):  # custom plot templates; the offline plots page
        shutil.copytree(ROOT / ".dvc" / folder, path / ".dvc" / folder)
    run(
        path,
        ["dvc", "config", "core.analytics", "false"],
        ["dvc", "config", "plots.html_template", "html/offline.html"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "project"],  # dvclive needs a commit
    )


def run(path: Path, *commands: list[str]) -> None:
    for cmd in commands:
        done = subprocess.run(cmd, cwd=path, env=environment(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed in {path}: {done.stderr.strip()}")
