"""The project's own .gitignore keeps every output DVC caches out of git, whatever DVC does.

DVC writes ignore entries of its own when a stage runs, and takes them back when `dvc repro`
fails; the stages that did run are then skipped by the next repro, so without these patterns a
`git add -A` would commit their data (tests/test_everyday_e2e.py runs that story). Outputs DVC
leaves to git (cache: false: metrics, plot tables, the locate notes) must stay visible to it.
"""

import subprocess
from pathlib import Path

import pytest
from dvc.repo import Repo

ROOT = Path(__file__).resolve().parents[1]
OUTS = [(o.def_path, o.use_cache) for o in Repo(str(ROOT)).index.outs]


def ignored_by_root_gitignore(tmp_path: Path, paths: list[str]) -> set[str]:
    """Which paths the root .gitignore alone ignores (no nested .gitignore, files need not exist)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=tmp_path,
        input="\n".join(paths),
        capture_output=True,
        text=True,
    )
    return set(done.stdout.split())


def as_checked(path: str) -> list[str]:
    """A folder output is checked as a folder and as a file inside it."""
    return [path] if Path(path).suffix else [f"{path}/", f"{path}/any/file.png"]


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "left-to-git"])
def test_cached_outputs_are_ignored_and_the_others_are_not(tmp_path, cached):
    paths = [p for path, c in OUTS if c == cached for p in as_checked(path)]
    assert paths
    ignored = ignored_by_root_gitignore(tmp_path, paths)
    wrong = [p for p in paths if (p in ignored) != cached]
    assert not wrong, f"{'not ignored' if cached else 'ignored'}: {', '.join(wrong)}"


def test_a_new_datasets_outputs_and_the_tool_folders_are_ignored(tmp_path):
    paths = ["data/raw/ck48/", "data/raw/ck48/a/b.png", "data/raw/ck48.source.json"]
    paths += ["data/clean/ck48/", "metrics/clean/ck48.json", "dvc_plots/index.html"]
    assert ignored_by_root_gitignore(tmp_path, [*paths, ".venv"]) == {*paths, ".venv"}
