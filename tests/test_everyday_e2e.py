"""A user's ordinary day with DVC, end to end with the real dvc: a wrong label map and an empty
class stop with a sentence, a folder dataset edited in place is seen, a clip stays in one split,
switching params back restores from the run-cache, one edited path re-runs one download, and the
metrics DVC compares are the headline ones."""

import json
import re
import shutil

import pandas as pd
import pytest

from expressions.config import read_yaml, write_yaml
from helpers.e2e import Project, tiny_params
from helpers.layouts import make_image

pytestmark = pytest.mark.e2e

CLIP = r"^(S\d+_\d+)_"  # CK+'s file names: S<subject>_<sequence>_<frame>.png


def make_ck(root, clips=18, frames=4):
    """A CK+48-like folder: anger/happy/neutral clips of consecutive frames, plus an extra label."""
    for c in range(clips):
        label = ("anger", "happy", "neutral")[c % 3]
        for f in range(frames):
            make_image(root / label / f"S{c:03d}_001_{f:08d}.png", side=32)
    (root / "surprise").mkdir()
    (root / "surprise" / "S900_001_00000001.png").write_text("not an image")
    return root


def ran(done) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", done.stdout))


def edit_params(project, change) -> None:
    params = read_yaml(project.path / "params.yaml")
    change(params)
    write_yaml(project.path / "params.yaml", params)


def straddling_clips(project) -> int:
    manifest = pd.read_csv(project.path / "data/merged/manifest.csv")
    ck = manifest[manifest["dataset"] == "ck48"]
    clip = ck["file"].str.extract(r"(S\d+_\d+)_", expand=False)
    return int((ck.groupby(clip)["split"].nunique() > 1).sum())


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    ck = make_ck(tmp_path_factory.mktemp("ck48") / "ck48")
    params = tiny_params(**{"data.datasets.ck48": "folder", "data.local.ck48": str(ck)})
    params["labels"]["map"]["ck48"] = {"anger": "Angry", "happy": "Happy", "neutral": "Neutral"}
    project = Project(tmp_path_factory.mktemp("everyday"), params)
    project.ck = ck
    project.first = project.dvc("repro")
    project.commit("first run")
    return project


def test_a_second_repro_only_looks_at_the_sources(project):
    assert {"download@ck48", "train@main", "report"} <= ran(project.first)
    done = project.dvc("repro")
    assert ran(done) <= {f"locate@{d}" for d in ("rafdb", "oahega", "fed2023", "ck48")}
    assert "Stage 'download@ck48' didn't change, skipping" in done.stdout
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""


def test_metrics_are_the_headline_ones_and_diff_shows_nothing_unchanged(project):
    shown = json.loads(project.dvc("metrics", "show", "--json").stdout)
    files = {f for rev in shown.values() for f in rev["data"]}
    assert files == {
        f"metrics/test/{v}.json" for v in ("main", "variant1", "variant2", "tuned")
    } | {f"dvclive/{v}/metrics.json" for v in ("main", "variant1", "variant2", "tuned")}
    workspace = shown[""]["data"]  # dvc names the workspace ""
    test = workspace["metrics/test/main.json"]["data"]
    assert set(test) == {"accuracy", "macro", "micro"} and 0 <= test["accuracy"] <= 1
    live = workspace["dvclive/main/metrics.json"]["data"]
    assert 0 <= live["val_acc"] <= 1  # one unit for every fraction
    assert project.dvc("metrics", "diff").stdout.strip() == ""


def test_switching_params_back_restores_from_the_run_cache(project):
    edit_params(project, lambda p: p["model"].update(hidden=24))
    changed = project.dvc("repro")
    assert {"train@main", "train@tuned"} <= ran(changed)
    project.run("git", "checkout", "params.yaml")
    back = project.dvc("repro")
    assert not {s for s in ran(back) if s.startswith(("train@", "evaluate@"))}
    assert "Stage 'train@main' is cached - skipping run, checking out outputs" in back.stdout
    assert project.dvc("metrics", "diff").stdout.strip() == ""  # HEAD's numbers, restored


def test_a_folder_dataset_edited_in_place_is_seen(project):
    before = json.loads((project.path / "metrics/data.json").read_text())["datasets"]["ck48"]
    make_image(project.ck / "happy" / "S500_001_00000001.png", side=32)
    make_image(project.ck / "happy" / "S500_001_00000002.png", side=32)
    next(iter(sorted((project.ck / "anger").iterdir()))).unlink()
    done = project.dvc("repro")
    assert {"download@ck48", "clean@ck48", "merge"} <= ran(done)
    assert not {"download@rafdb", "clean@rafdb", "download@oahega"} & ran(done)
    after = json.loads((project.path / "metrics/data.json").read_text())["datasets"]["ck48"]
    assert after["files"] == before["files"] + 1
    project.commit("ck48 edited")


def test_editing_one_dataset_path_reruns_only_its_download(project, tmp_path):
    moved = shutil.copytree(project.ck, tmp_path / "ck48-copy")
    edit_params(project, lambda p: p["data"]["local"].update(ck48=str(moved)))
    done = project.dvc("repro")
    downloads = {s for s in ran(done) if s.startswith("download@")}
    assert downloads == {"download@ck48"}
    assert "Stage 'clean@ck48' didn't change, skipping" in done.stdout  # same files, same data
    project.run("git", "checkout", "params.yaml")


def test_a_group_pattern_keeps_each_clip_in_one_split(project):
    assert straddling_clips(project) > 0  # frame-level splitting leaks clips
    edit_params(project, lambda p: p["split"].update(group={"ck48": CLIP}))
    project.dvc("repro", "merge")
    assert straddling_clips(project) == 0
    project.run("git", "checkout", "params.yaml")
    project.dvc("repro", "merge")


def test_a_label_map_entry_that_matches_nothing_is_named(project):
    edit_params(project, lambda p: p["labels"]["map"]["ck48"].update(angry="Angry"))
    done = project.dvc("repro", "merge", check=False)
    project.run("git", "checkout", "params.yaml")
    assert done.returncode != 0
    assert (
        "error: labels.map.ck48.angry matches no label of dataset ck48; its labels are anger,"
        in done.stderr
    )


def test_a_class_without_images_stops_before_training(project):
    def surprise(params):
        params["labels"]["classes"].append("Surprise")
        params["labels"]["map"]["ck48"]["surprise"] = "Surprise"

    edit_params(project, surprise)
    done = project.dvc("repro", check=False)
    project.run("git", "checkout", "params.yaml")
    assert done.returncode != 0
    assert "error: class 'Surprise' has no images after the merge" in done.stderr
    assert not {s for s in ran(done) if s.startswith("train@")}


def test_exp_show_of_a_one_variant_change_fits_a_terminal(project):
    project.dvc("repro")
    project.dvc("exp", "run", "-n", "short-v2", "-S", "variants.variant2.model.depth=3")
    table = project.dvc("exp", "show", "--only-changed", "--csv").stdout
    header = table.splitlines()[0].split(",")
    assert len(header) <= 24, header
    metrics = [c for c in header if ":" in c and c.startswith(("metrics/", "dvclive/"))]
    assert metrics and all("/variant2" in c for c in metrics), metrics  # only what changed
    assert not [c for c in header if "data.json" in c or "images_per_s" in c or "lr" in c]
