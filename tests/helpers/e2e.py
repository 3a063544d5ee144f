"""Helpers for end-to-end tests: a copy of the project in a temporary git repo, driven by real dvc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from expressions.config import read_yaml, set_dotted, write_yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("dvc.yaml", "params.yaml", "stages", "src", ".gitignore")
BIN = Path(sys.executable).parent


def tiny_params(**overrides: object) -> dict:
    """The shipped params.yaml shrunk to seconds: few images, small ones, short training."""
    params = read_yaml(ROOT / "params.yaml")
    params["data"]["image_size"] = 24
    params["data"]["synthetic"]["scale"] = 0.03
    params["train"].update(epochs=2, batch_size=32, threads=1)
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


class Project:
    """A fresh git + dvc repository holding a copy of this project's pipeline."""

    def __init__(self, path: Path, params: dict) -> None:
        self.path = path
        for name in PROJECT_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, path / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, path / name)
        write_yaml(path / "params.yaml", params)
        self.run("git", "init", "-q", "-b", "main")
        self.run("git", "config", "user.email", "ci@example.com")
        self.run("git", "config", "user.name", "CI")
        self.run("dvc", "init", "-q")
        self.run("dvc", "config", "core.analytics", "false")
        shutil.copytree(ROOT / ".dvc" / "plots", path / ".dvc" / "plots")  # custom templates
        shutil.copytree(ROOT / ".dvc" / "html", path / ".dvc" / "html")  # the offline page
        self.run("dvc", "config", "plots.html_template", "html/offline.html")
        self.commit("project")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        env.pop("DVC_STUDIO_TOKEN", None)
        done = subprocess.run(args, cwd=self.path, env=env, capture_output=True, text=True)
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
