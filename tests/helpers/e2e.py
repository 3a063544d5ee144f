"""Helpers for end-to-end tests: a copy of the project in a temporary git repo, driven by real dvc.

Building the tiny pipeline costs about a minute and a half, so a session builds it once
(tests/conftest.py's `baseline`: `dvc repro`, then a commit) and each module works on a copy of
that repository, `.git` and DVC cache included.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from expressions.config import read_yaml, set_dotted, write_yaml

ROOT = Path(__file__).resolve().parents[2]

from expressions.config.scratch import environment, scratch_project  # noqa: E402

VARIANTS = ("main", "variant1", "variant2", "tuned")
DATASETS = ("rafdb", "oahega", "fed2023")


def tiny_params(**overrides: object) -> dict:
    """The shipped params.yaml shrunk to seconds: few images, small ones, short training."""
    params = read_yaml(ROOT / "params.yaml")
    params["data"]["image_size"] = 24
    params["data"]["synthetic"]["scale"] = 0.03
    params["train"].update(epochs=2, batch_size=32)
    params["runtime"]["threads"] = 1
    params["model"]["channels"] = [8, 16, 16, 16, 16]
    params["model"]["hidden"] = 32
    for override in params["variants"].values():
        train = (override or {}).get("train", {})
        if "epochs" in train:
            train["epochs"] = 2
        if train.get("balance") == "sampler":  # two epochs of balanced batches of this tiny set
            train["balance"] = "none"  # leave a 4-block net at chance; tests/test_training.py
            # checks the sampler, these tests the pipeline around it
    for dotted, value in overrides.items():
        set_dotted(params, dotted, value)
    return params


def ran(done: subprocess.CompletedProcess) -> set[str]:
    """The stages a dvc command ran."""
    return set(re.findall(r"Running stage '([^']+)'", done.stdout))


class Project:
    """A git + dvc repository holding a copy of this project's pipeline."""

    def __init__(self, path: Path, params: dict | None = None) -> None:
        """A fresh repository at `path` with `params` (default: tiny_params()), committed."""
        self.path = path
        self.first: subprocess.CompletedProcess | None = None  # the first `dvc repro`, if kept
        scratch_project(path, params or tiny_params(), "ci@example.com")

    @classmethod
    def at(cls, path: Path) -> Project:
        """An existing repository (a copy or a clone) as a Project."""
        project = cls.__new__(cls)
        project.path, project.first = path, None
        return project

    @classmethod
    def copy(cls, source: Project, path: Path) -> Project:
        """An independent copy of `source`: work tree, git history and DVC cache."""
        shutil.copytree(source.path, path, symlinks=True, dirs_exist_ok=True)
        project = cls.at(path)
        project.first = source.first
        return project

    @classmethod
    def clone(cls, origin: Path, path: Path, email: str = "b@example.com") -> Project:
        """`git clone` of origin, as a user elsewhere would have it."""
        subprocess.run(["git", "clone", "-q", str(origin), str(path)], check=True)
        project = cls.at(path)
        project.identify(email, email.split("@")[0])
        return project

    def identify(self, email: str, name: str) -> None:
        self.run("git", "config", "user.email", email)
        self.run("git", "config", "user.name", name)

    def run(
        self, *args: str, check: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess:
        """A command in the project (or `cwd`), its output captured; a failure shows it all."""
        done = subprocess.run(
            args, cwd=cwd or self.path, env=environment(), capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("dvc", *args, check=check)

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "-m", message)

    def params(self) -> dict:
        return read_yaml(self.path / "params.yaml")

    def edit_params(self, change: Callable[[dict], None] | None = None, **dotted: Any) -> None:
        """Set dotted keys (`**{"model.kernel": 4}`) and/or apply `change` to params.yaml."""
        params = self.params()
        for key, value in dotted.items():
            set_dotted(params, key, value)
        if change is not None:
            change(params)
        write_yaml(self.path / "params.yaml", params)

    def read_json(self, relative: str) -> Any:
        return json.loads((self.path / relative).read_text())
