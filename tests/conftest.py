"""Make the shared fixtures and builders in tests/helpers/ importable by every test module, and
build the tiny pipeline once per session for the end-to-end tests that start from it."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers.e2e import Project


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> Project:
    """The tiny pipeline after its first `dvc repro`, committed. Copy it (Project.copy); never
    change it: every module that uses it starts from this state."""
    project = Project(tmp_path_factory.mktemp("baseline"))
    project.first = project.dvc("repro")
    project.commit("baseline")
    return project
