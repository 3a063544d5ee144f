"""A user's ordinary day with DVC, end to end with the real dvc: a wrong label map and an empty
class stop with a sentence, a folder dataset edited in place is seen, a clip stays in one split,
switching params back restores from the run-cache, one edited path re-runs one download, and the
metrics DVC compares are the headline ones, and a speed knob re-runs nothing."""

import json
import shutil

import pandas as pd
import pytest

from helpers.e2e import Project, ran, tiny_params
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
    # one variant: these tests are about the data and DVC's loop, and each repro retrains it
    params["variants"], params["release"]["variant"] = {"main": {}}, "main"
    project = Project(tmp_path_factory.mktemp("everyday"), params)
    project.ck = ck
    project.first = project.dvc("repro")
    project.commit("first run")
    return project


def test_a_second_repro_only_looks_at_the_sources(project):
    assert {"download@ck48", "train@main-0", "report"} <= ran(project.first)
    done = project.dvc("repro")
    assert ran(done) <= {f"locate@{d}" for d in ("rafdb", "oahega", "fed2023", "ck48")}
    assert "Stage 'download@ck48' didn't change, skipping" in done.stdout
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""


def test_changing_how_fast_it_runs_re_runs_nothing_that_is_built(project):
    for knob in ("runtime.threads=1", "runtime.workers=1", "runtime.processes=2"):
        done = project.dvc("exp", "run", "-S", knob)
        assert ran(done) <= {f"locate@{d}" for d in ("rafdb", "oahega", "fed2023", "ck48")}, knob
    assert "threads" not in (project.path / "configs" / "main.json").read_text()
    project.run("git", "checkout", "HEAD", "--", "params.yaml")


def test_metrics_are_the_headline_ones_and_diff_shows_nothing_unchanged(project):
    shown = json.loads(project.dvc("metrics", "show", "--json").stdout)
    files = {f for rev in shown.values() for f in rev["data"]}
    assert files == {"metrics/test/main.json"}
    workspace = shown[""]["data"]  # dvc names the workspace ""
    test = workspace["metrics/test/main.json"]["data"]
    assert set(test) == {"main"}  # under the variant's name: `dvc exp show` heads it main.acc
    assert set(test["main"]) == {"acc", "acc_sd", "f1", "f1_sd", "seeds"}
    assert 0 <= test["main"]["acc"] <= 1 and 0 <= test["main"]["f1"] <= 1
    tables = project.read_json("metrics/tables/main.json")
    assert set(tables["macro"]) == {"precision", "recall", "f1", "f1_study"}
    live = project.read_json("dvclive/main/seed-0/metrics.json")
    assert 0 <= live["val_acc"] <= 1  # one unit for every fraction
    assert project.dvc("metrics", "diff").stdout.strip() == ""


def test_switching_params_back_restores_from_the_run_cache(project):
    project.edit_params(**{"model.hidden": 24})
    changed = project.dvc("repro")
    assert "train@main-0" in ran(changed)
    project.run("git", "checkout", "params.yaml")
    back = project.dvc("repro")
    assert not {s for s in ran(back) if s.startswith(("train@", "test@", "evaluate@"))}
    assert "Stage 'train@main-0' is cached - skipping run, checking out outputs" in back.stdout
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
    project.edit_params(**{"data.local.ck48": str(moved)})
    done = project.dvc("repro")
    downloads = {s for s in ran(done) if s.startswith("download@")}
    assert downloads == {"download@ck48"}
    assert "Stage 'clean@ck48' didn't change, skipping" in done.stdout  # same files, same data
    project.run("git", "checkout", "params.yaml")


def test_a_group_pattern_keeps_each_clip_in_one_split(project):
    assert straddling_clips(project) > 0  # frame-level splitting leaks clips
    project.edit_params(**{"split.group": {"ck48": CLIP}})
    project.dvc("repro", "merge")
    assert straddling_clips(project) == 0
    project.run("git", "checkout", "params.yaml")
    project.dvc("repro", "merge")


def test_label_map_entries_that_match_nothing_are_all_named(project):
    project.edit_params(**{"labels.map.ck48.angry": "Angry", "labels.map.ck48.glad": "Happy"})
    done = project.dvc("repro", "merge", check=False)
    project.run("git", "checkout", "params.yaml")
    assert done.returncode != 0
    assert (
        "error: labels.map.ck48.angry and labels.map.ck48.glad match no label of dataset ck48; "
        "its labels are anger,"
    ) in done.stderr


def test_a_class_without_images_stops_before_training(project):
    def surprise(params):
        params["labels"]["classes"].append("Surprise")
        params["labels"]["map"]["ck48"]["surprise"] = "Surprise"

    project.edit_params(surprise)
    done = project.dvc("repro", check=False)
    project.run("git", "checkout", "params.yaml")
    assert done.returncode != 0
    assert "error: class 'Surprise' has no images after the merge" in done.stderr
    assert not {s for s in ran(done) if s.startswith("train@")}


def staged(project) -> list[str]:
    project.run("git", "add", "-A")
    return project.run("git", "diff", "--cached", "--name-only").stdout.split()


def test_a_failed_repro_leaves_no_data_to_commit(project, tmp_path):
    """DVC takes back its own ignore entries when `dvc repro` fails; the stages that ran are
    then skipped by the next repro, so only the project's .gitignore keeps their data out."""
    assert staged(project) == []
    ck2 = make_ck(tmp_path / "ck2", clips=6)
    project.edit_params(
        **{"data.datasets.ck2": "folder", "data.local.ck2": str(ck2)},
        **{"labels.map.ck2": {"anger": "Angry", "joy": "Happy", "neutral": "Neutral"}},
    )
    failed = project.dvc("repro", check=False)
    assert failed.returncode != 0 and {"download@ck2", "clean@ck2"} <= ran(failed)
    assert "labels.map.ck2.joy matches no label of dataset ck2" in failed.stderr
    project.edit_params(lambda p: p["labels"]["map"]["ck2"].pop("joy"))
    project.edit_params(**{"labels.map.ck2.happy": "Happy"})
    fixed = project.dvc("repro")
    assert "download@ck2" not in ran(fixed) and "merge" in ran(fixed)
    files = staged(project)
    data = [f for f in files if f.startswith(("data/raw/ck2", "data/clean/", "metrics/clean/"))]
    assert data == ["data/raw/ck2.input.json"], files  # the locate note, a text file for git
    assert not [f for f in files if f.endswith((".png", ".jpg", ".npz", ".pt"))], files
    project.run("git", "reset", "-q")
    project.run("git", "checkout", "--", ".")
    (project.path / "data/raw/ck2.input.json").unlink()


def test_a_failed_experiment_says_how_to_get_back(project):
    project.run("git", "checkout", "--", ".")
    done = project.dvc("exp", "run", "-S", "labels.map.ck48.anger=Anger", check=False)
    assert done.returncode != 0
    note = "git checkout HEAD -- params.yaml dvc.lock && git clean -fdxq dvclive metrics"
    note += " && dvc repro"
    assert f"params.yaml keeps this experiment's values; back to the last commit: {note}" in (
        done.stderr + done.stdout
    )
    project.run("bash", "-c", note)
    assert project.run("git", "status", "--porcelain").stdout.strip() == ""
