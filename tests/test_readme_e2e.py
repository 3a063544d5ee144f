"""The README's command blocks marked `<!-- tested: NAME -->`, run as they are written, in a copy
of the session's tiny pipeline (committed, as the README asks before the first experiment).

Two placeholders are filled in: `<your-repo-url>` and `<repo-url>` (a bare git repository
standing for the user's server), and the photo `photo.jpg`. Everything else is the README's own text, so the README cannot
drift from what works.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

from helpers.e2e import ROOT, VARIANTS, Project, ran
from helpers.photos import group_photo

pytestmark = pytest.mark.e2e

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


@pytest.fixture(scope="module")
def project(baseline, tmp_path_factory):
    project = Project.copy(baseline, tmp_path_factory.mktemp("readme") / "project")
    (project.path / ".venv").symlink_to(Path(sys.prefix))  # as `make` built it in a clone:
    for name in ("requirements.txt", "pyproject.toml"):  # after the files it was built from
        os.utime(project.path / name, (0, 0))
    return project


def test_every_tested_block_is_in_the_readme():
    assert set(BLOCKS) == {
        "check", "first-experiment", "exp-show", "one-variant", "compare", "way-back", "seeds",
        "registry", "fetch",
    }  # fmt: skip


def test_an_experiment_the_comparison_and_the_way_back(project):
    assert run_block(project, "check").stdout.strip().endswith("model.kernel=4: valid")
    done = run_block(project, "first-experiment")
    assert {"train@main-0", "train@variant2-0", "train@tuned-0"} <= ran(done)
    assert "train@variant1-0" not in ran(done)
    assert "Stage 'train@variant1-0' didn't change, skipping" in done.stdout
    diff = json.loads(project.dvc("metrics", "diff", "HEAD", "kernel4", "--json").stdout)
    assert "metrics/test/main.json" in diff
    shown = run_block(project, "exp-show", columns=120).stdout  # a 120-column terminal
    assert max(map(len, shown.splitlines())) <= 120 and "…" not in shown, shown
    header = next(line for line in shown.splitlines() if "Experiment" in line).split()
    assert {"main.acc", "main.f1", "tuned.acc", "model.kernel"} <= set(header), shown
    assert not [h for h in header if "/" in h], shown  # no file paths, no dependency hashes
    run_block(project, "way-back")  # each experiment from the committed params, as the README says
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""
    done = run_block(project, "one-variant")
    assert "train@variant2-0" in ran(done) and not {"train@main-0", "train@tuned-0"} & ran(done)
    table = run_block(project, "compare").stdout
    lines = table.splitlines()
    assert max(map(len, lines)) <= 100, table
    assert lines[0].split()[-len(VARIANTS) :] == list(VARIANTS), table
    kernel4 = next(line for line in lines if line.startswith("kernel4"))
    assert "model.kernel=4" in kernel4 and len(re.findall(r"\d\.\d{3}", kernel4)) == len(VARIANTS)
    depth3 = next(row for row in lines if row.startswith("v2-depth3"))
    assert "variants.variant2.model.depth=3" in depth3 and "model.kernel=4" not in depth3
    run_block(project, "way-back")
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""
    status = project.dvc("status").stdout
    assert not [
        line for line in status.splitlines() if line.endswith(":") and "locate@" not in line
    ]


def test_three_seeds_give_mean_and_sd_and_the_differences_in_words(project):
    done = run_block(project, "seeds")
    assert {f"train@{v}-{s}" for v in VARIANTS for s in (1, 2)} <= ran(done)
    assert not {f"train@{v}-0" for v in VARIANTS} & ran(done)  # seed 0's runs were there
    metrics = project.read_json("metrics/test/main.json")["main"]
    runs = project.read_json("metrics/tables/main.json")["runs"]
    assert metrics["seeds"] == 3 and set(runs) == {"0", "1", "2"}
    mean = sum(r["accuracy"] for r in runs.values()) / 3
    assert metrics["acc"] == pytest.approx(mean, abs=1e-4) and metrics["acc_sd"] >= 0
    report = (project.path / "metrics/report.md").read_text()
    for variant in VARIANTS[1:]:
        assert re.search(
            rf"{variant} - main: [+-]\d+\.\d points \[.*\], (not )?resolved at 95 %", report
        )
    assert "± " in report
    shown = json.loads(project.dvc("exp", "show", "--json").stdout)
    rows = [r for c in shown for e in c.get("experiments") or [] for r in e["revs"]]
    assert [r["name"] for r in rows].count("seeds3") == 1  # one row, however many runs it holds
    run_block(project, "way-back")  # back to one seed: no extra run left to commit or to read
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""
    assert not list((project.path / "metrics/runs/main").glob("seed-[12]"))
    assert project.read_json("metrics/test/main.json")["main"]["seeds"] == 1


def test_release_tag_push_then_fetch_and_predict_elsewhere(project, tmp_path):
    origin = tmp_path / "origin.git"
    project.run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    run_block(project, "registry", **{"<your-repo-url>": str(origin)})
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Image.fromarray(group_photo()[0]).save(elsewhere / "photo.jpg")
    done = run_block(project, "fetch", cwd=elsewhere, **{"<repo-url>": str(origin)})
    assert (elsewhere / "classifier" / "model_card.json").is_file()
    rows = [line for line in done.stdout.splitlines() if "photo.jpg" in line]
    assert len(rows) == 3, done.stdout  # the three faces of the photo
    assert "trained on drawn faces" in done.stderr  # the default data's release says so
