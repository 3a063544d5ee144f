"""The README's command blocks marked `<!-- tested: NAME -->`, and a copy of the session's tiny
pipeline to run them in (committed, as the README asks before the first experiment), for the
modules that test them: tests/test_readme_e2e.py and tests/test_readme_seeds_e2e.py, two files
so that pytest-xdist runs their longest tests side by side.

Two placeholders are filled in: `<your-repo-url>` and `<repo-url>` (a bare git repository
standing for the user's server), and the photo `photo.jpg`. Everything else is the README's own
text, so the README cannot drift from what works.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from helpers.e2e import ROOT, Project

MARKED = re.compile(r"<!-- tested: ([\w-]+) -->\n```bash\n(.*?)```", re.S)
BLOCKS = dict(MARKED.findall((ROOT / "README.md").read_text()))


def run_block(project: Project, name: str, cwd: Path | None = None, columns: int = 0, **fill: str):
    """One README block in bash -e, placeholders filled (in a terminal `columns` wide, if
    given); the CompletedProcess."""
    text = BLOCKS[name]
    for placeholder, value in fill.items():
        text = text.replace(placeholder, value)
    if columns:
        text = f"export COLUMNS={columns}\n{text}"
    done = project.run("bash", "-e", "-c", text, check=False, cwd=cwd or project.path)
    assert done.returncode == 0, f"README block {name!r} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module", name="project")
def readme_project(baseline, tmp_path_factory):
    """`project` in the modules that import it: a copy of the baseline with its .venv, as a
    user's clone has it after `make`."""
    project = Project.copy(baseline, tmp_path_factory.mktemp("readme") / "project")
    (project.path / ".venv").symlink_to(Path(sys.prefix))  # as `make` built it in a clone:
    for name in ("requirements.txt", "pyproject.toml"):  # after the files it was built from
        os.utime(project.path / name, (0, 0))
    return project
