"""The README's promises, end to end, with the real dvc on the embedded synthetic data.

One repository is built per module and the steps run in order, as a user types them:
repro, repro again, an experiment with a changed kernel, then the comparison commands.
"""

import json
import re

import pytest
from PIL import Image

from expressions.config import read_yaml, write_yaml
from helpers.e2e import Project, tiny_params

pytestmark = pytest.mark.e2e

VARIANTS = ("main", "variant1", "variant2", "tuned")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return Project(tmp_path_factory.mktemp("pipeline"), tiny_params())


def ran_stages(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


@pytest.fixture(scope="module")
def first_repro(project):
    done = project.dvc("repro")
    project.commit("first run")
    return done


def test_repro_runs_every_stage_and_writes_metrics(project, first_repro):
    stages = ran_stages(first_repro.stdout)
    for dataset in ("rafdb", "oahega", "fed2023"):
        assert {f"download@{dataset}", f"clean@{dataset}"} <= stages
    for variant in VARIANTS:
        assert {f"resolve@{variant}", f"train@{variant}", f"evaluate@{variant}"} <= stages
        metrics = json.loads((project.path / f"metrics/test/{variant}.json").read_text())
        assert metrics["accuracy"] > 0.25  # four classes: above chance
        tables = json.loads((project.path / f"metrics/tables/{variant}.json").read_text())
        assert set(tables["per_class"]) == {"Angry", "Engaged", "Happy", "Neutral"}
    assert "Epoch [2/2], Validation Loss: " in first_repro.stdout
    assert "Test Accuracy of the model on the test images: " in first_repro.stdout


def test_every_file_is_accounted_for(project, first_repro):
    data = json.loads((project.path / "metrics/data.json").read_text())
    for counts in data["datasets"].values():
        assert counts["files"] == counts["skipped"] + counts["decoded"]
        assert counts["decoded"] == counts["unmapped"] + counts["duplicates"] + counts["kept"]
    raw = project.path / "data/raw"
    raw_files = sum(1 for d in data["datasets"] for p in (raw / d).rglob("*") if p.is_file())
    assert data["total"]["files"] == raw_files - 2  # RAF-DB's two label CSVs are not images


def test_second_repro_runs_nothing(project, first_repro):
    done = project.dvc("repro")
    assert ran_stages(done.stdout) == {f"locate@{d}" for d in ("rafdb", "oahega", "fed2023")}
    assert "Stage 'train@main' didn't change, skipping" in done.stdout
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""


def test_kernel_experiment_retrains_only_what_it_changes(project, first_repro):
    done = project.dvc("exp", "run", "-n", "kernel4", "-S", "model.kernel=4")
    stages = ran_stages(done.stdout)
    assert {"train@main", "train@variant2", "train@tuned", "evaluate@main"} <= stages
    assert "train@variant1" not in stages and "clean@rafdb" not in stages
    assert "Stage 'train@variant1' didn't change, skipping" in done.stdout
    shown = project.dvc("exp", "show", "--json").stdout
    assert "kernel4" in shown
    diff = json.loads(project.dvc("metrics", "diff", "HEAD", "kernel4", "--json").stdout)
    assert "metrics/test/main.json" in diff


def test_bad_param_stops_with_one_sentence(project, first_repro):
    params = read_yaml(project.path / "params.yaml")
    params["model"]["kernel"] = 0
    write_yaml(project.path / "params.yaml", params)
    try:
        done = project.dvc("repro", check=False)
    finally:
        project.run("git", "checkout", "params.yaml")
    assert done.returncode != 0
    assert "error: model.kernel is 0; allowed range [1, 11]" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout


def test_report_repeats_the_metrics_and_every_figure_decodes(project, first_repro):
    report = json.loads((project.path / "metrics/report.json").read_text())
    for variant in VARIANTS:
        metrics = json.loads((project.path / f"metrics/test/{variant}.json").read_text())
        assert report["table2"][variant]["accuracy"] == metrics["accuracy"]
        tables = json.loads((project.path / f"metrics/tables/{variant}.json").read_text())
        for cls, scores in tables["per_class"].items():
            assert report["table1"][variant][cls]["precision"] == scores["precision"]
        for name in ("confusion", "errors", "feature_maps"):
            with Image.open(project.path / f"plots/{variant}/{name}.png") as image:
                image.load()
                assert min(image.size) > 200
    markdown = (project.path / "metrics/report.md").read_text()
    assert "Table 1" in markdown and "Table 2" in markdown and "Epoch [2/2]" in markdown


def test_plots_show_and_diff_between_experiments(project, first_repro):
    project.dvc("exp", "run", "-n", "augmented", "-S", "train.augment=true")
    shown = project.dvc("plots", "show", "-o", "show_html")
    assert (project.path / "show_html/index.html").stat().st_size > 10_000, shown.stdout
    project.dvc("plots", "diff", "HEAD", "augmented", "-o", "diff_html")
    html = (project.path / "diff_html/index.html").read_text()
    assert "augmented" in html and "confusion" in html


def test_a_variant_is_one_entry_in_params(project, first_repro):
    params = read_yaml(project.path / "params.yaml")
    params["variants"]["narrow"] = {"model": {"hidden": 16}}
    write_yaml(project.path / "params.yaml", params)
    done = project.dvc("repro")
    stages = ran_stages(done.stdout)
    for stage in ("resolve", "train", "evaluate", "analyze"):
        assert f"{stage}@narrow" in stages
    assert "report" in stages and "train@main" not in stages
    report = json.loads((project.path / "metrics/report.json").read_text())
    assert list(report["table2"]) == [*VARIANTS, "narrow"]
    assert "| narrow |" in (project.path / "metrics/report.md").read_text()
    shown = json.loads(project.dvc("plots", "show", "--json").stdout)["data"]
    assert "plots/narrow/confusion.csv" in shown
    assert "dvclive/narrow/plots/metrics/val_loss.tsv" in shown
    assert "plots/narrow/feature_maps.png" in shown
