"""The README's `seeds` block, run as it is written (tests/helpers/readme.py), apart from the other
blocks so that it runs beside them."""

from __future__ import annotations

import json
import re

import pytest

from helpers.e2e import VARIANTS, ran
from helpers.readme import (
    readme_project,  # noqa: F401 (the fixture `project`)
    run_block,
)

pytestmark = pytest.mark.e2e


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
