"""The README's command blocks marked `<!-- tested: NAME -->`, run as they are written
(tests/helpers/readme.py); the `seeds` block is in tests/test_readme_seeds_e2e.py."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from helpers.e2e import VARIANTS, ran
from helpers.photos import group_photo
from helpers.readme import (
    BLOCKS,
    readme_project,  # noqa: F401 (the fixture `project`)
    run_block,
)

pytestmark = pytest.mark.e2e


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
