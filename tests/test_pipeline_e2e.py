"""The README's promises, end to end, with the real dvc on the embedded synthetic data.

The module works on a copy of the session's tiny pipeline (`baseline`: one `dvc repro`, then a
commit) and runs the steps in order, as a user types them: repro again, an edit of the code, a
bad param, the report, plots of an experiment, a new variant. The README's own flows (the
kernel experiment, seeds, comparing, the way back) run in tests/test_readme_e2e.py and
tests/test_readme_seeds_e2e.py.
"""

import json

import pytest
from PIL import Image

from expressions.core.sourcefiles import code_note
from helpers.e2e import DATASETS, ROOT, VARIANTS, Project, ran

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(baseline, tmp_path_factory):
    return Project.copy(baseline, tmp_path_factory.mktemp("pipeline"))


def test_repro_runs_every_stage_and_writes_metrics(project):
    stages = ran(project.first)
    for dataset in DATASETS:
        assert {f"download@{dataset}", f"clean@{dataset}"} <= stages
    for variant in VARIANTS:
        runs = {f"train@{variant}-0", f"test@{variant}-0"}
        assert {f"resolve@{variant}", *runs, f"evaluate@{variant}"} <= stages
        metrics = project.read_json(f"metrics/test/{variant}.json")[variant]
        assert metrics["acc"] > 0.25 and metrics["seeds"] == 1  # four classes: above chance
        tables = project.read_json(f"metrics/tables/{variant}.json")
        assert set(tables["per_class"]) == {"Angry", "Engaged", "Happy", "Neutral"}
        low, high = tables["intervals"]["accuracy"]
        assert low - 5e-5 <= metrics["acc"] <= high + 5e-5  # the headline rounds to 4 digits
    assert "Epoch [2/2], Validation Loss: " in project.first.stdout
    assert "Test Accuracy of the model on the test images: " in project.first.stdout


def test_every_file_is_accounted_for(project):
    data = project.read_json("metrics/data.json")
    for counts in data["datasets"].values():
        assert counts["files"] == counts["skipped"] + counts["decoded"]
        assert counts["decoded"] == counts["unmapped"] + counts["duplicates"] + counts["kept"]
    raw = project.path / "data/raw"
    raw_files = sum(1 for d in data["datasets"] for p in (raw / d).rglob("*") if p.is_file())
    assert data["total"]["files"] == raw_files - 2  # RAF-DB's two label CSVs are not images


def test_second_repro_runs_nothing(project):
    done = project.dvc("repro")
    assert ran(done) == {f"locate@{d}" for d in DATASETS}
    assert "Stage 'train@main-0' didn't change, skipping" in done.stdout
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""


def changed(project: Project) -> set[str]:
    """The stages `dvc status` lists, less the locate@ stages, which always run."""
    lines = project.dvc("status").stdout.splitlines()
    named = {line[:-1] for line in lines if line.endswith(":") and not line.startswith((" ", "\t"))}
    return {s for s in named if not s.startswith("locate@")}


def runs_file(script: str, module: str) -> bool:
    return module in code_note(ROOT / "stages" / f"{script}.py", ROOT)


def test_editing_a_module_reruns_exactly_the_stages_that_run_it(project):
    """The web app runs in no stage: editing it changes the `code` stage (which reads every
    module, in about a second) and nothing else. Editing the training loop changes exactly the
    stages whose scripts import it, once `code` has re-written the notes."""
    web = project.path / "src/expressions/serving/web.py"
    web.write_text(web.read_text() + "\n# an edit no stage runs\n")
    try:
        assert changed(project) == {"code"}
        assert ran(project.dvc("repro")) == {"code", *(f"locate@{d}" for d in DATASETS)}
        assert changed(project) == set()
        loop = "src/expressions/training/loop.py"
        (project.path / loop).write_text((project.path / loop).read_text() + "\n# an edit\n")
        project.dvc("repro", "code")
        stages = project.dvc("stage", "list", "--name-only").stdout.split()
        expected = {s for s in stages if runs_file(s.split("@")[0], loop)}
        assert changed(project) == expected
        assert "train@main-0" in expected and "merge" not in expected
        assert "test@main-0" not in expected  # evaluating a model runs no training loop
    finally:
        project.run("git", "checkout", "--", "src")
        project.dvc("repro", "code")
    assert changed(project) == set()


def test_bad_param_stops_with_one_sentence(project):
    project.edit_params(**{"model.kernel": 0})
    try:
        done = project.dvc("repro", check=False)
    finally:
        project.run("git", "checkout", "params.yaml")
    assert done.returncode != 0
    assert "error: model.kernel is 0; allowed range [1, 11]" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout


def test_report_repeats_the_metrics_and_every_figure_decodes(project):
    project.run("git", "checkout", "HEAD", "--", "params.yaml", "dvc.lock")
    project.dvc("repro")
    report = project.read_json("metrics/report.json")
    for variant in VARIANTS:
        metrics = project.read_json(f"metrics/test/{variant}.json")[variant]
        assert report["table2"][variant]["accuracy"] == metrics["acc"]
        tables = project.read_json(f"metrics/tables/{variant}.json")
        for cls, scores in tables["per_class"].items():
            assert report["table1"][variant][cls]["precision"] == scores["precision"]
        for name in ("confusion", "errors", "feature_maps"):
            with Image.open(project.path / f"plots/{variant}/{name}.png") as image:
                image.load()
                assert min(image.size) > 200
    markdown = (project.path / "metrics/report.md").read_text()
    assert "Table 1" in markdown and "Table 2" in markdown and "Epoch [2/2]" in markdown


def test_plots_show_and_diff_between_experiments(project):
    project.dvc("exp", "run", "-n", "augmented", "-S", "train.augment=true", "evaluate@main")
    shown = project.dvc("plots", "show", "-o", "show_html")
    assert (project.path / "show_html/index.html").stat().st_size > 10_000, shown.stdout
    project.dvc("plots", "diff", "HEAD", "augmented", "-o", "diff_html")
    html = (project.path / "diff_html/index.html").read_text()
    assert "augmented" in html and "confusion" in html


def test_a_variant_is_one_entry_in_params(project):
    project.run("git", "checkout", "HEAD", "--", "params.yaml", "dvc.lock")
    project.edit_params(**{"variants.narrow": {"model": {"hidden": 16}}})
    done = project.dvc("repro")
    stages = ran(done)
    for stage in ("resolve@narrow", "train@narrow-0", "test@narrow-0", "evaluate@narrow"):
        assert stage in stages
    assert "analyze@narrow" in stages and "report" in stages and "train@main-0" not in stages
    report = project.read_json("metrics/report.json")
    assert list(report["table2"]) == [*VARIANTS, "narrow"]
    assert "| narrow |" in (project.path / "metrics/report.md").read_text()
    shown = json.loads(project.dvc("plots", "show", "--json").stdout)["data"]
    assert "plots/narrow/confusion.csv" in shown
    assert "dvclive/narrow/seed-0/plots/metrics/val_loss.tsv" in shown
    assert "plots/narrow/feature_maps.png" in shown
