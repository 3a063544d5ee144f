"""data.source=local end to end: the real layouts as a zip, a folder and a tar, plus a user's own
folder dataset, through the real dvc download -> clean -> merge stages."""

import json
import re

import pytest

from helpers.e2e import Project, tiny_params
from helpers.layouts import (
    make_fed,
    make_folder,
    make_oahega,
    make_rafdb_kaggle,
    tar_tree,
    zip_tree,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    trees = {
        "rafdb": make_rafdb_kaggle(root / "raf", per_label=3, header=False),
        "oahega": make_oahega(root / "oahega", per_class=3),
        "fed2023": make_fed(root / "fed", per_class=3, split=False),
        "myfer": make_folder(root / "myfer", ("angry", "happy", "neutral", "surprise"), 3),
    }
    files = {name: sum(1 for p in tree.rglob("*") if p.is_file()) for name, tree in trees.items()}
    paths = {
        "rafdb": zip_tree(trees["rafdb"], root / "raf.zip"),
        "oahega": trees["oahega"],
        "fed2023": tar_tree(trees["fed2023"], root / "fed.tar.gz"),
        "myfer": trees["myfer"],
    }
    return {name: str(path) for name, path in paths.items()}, files


@pytest.fixture(scope="module")
def project(tmp_path_factory, sources):
    paths, _ = sources
    params = tiny_params(**{"data.source": "local", "data.datasets.myfer": "folder"})
    params["data"]["local"] = paths
    params["labels"]["map"]["myfer"] = {"Angry": "Angry", "happy": "Happy", "neutral": "Neutral"}
    project = Project(tmp_path_factory.mktemp("local"), params)
    project.done = project.dvc("repro", "merge")
    return project


def test_every_dataset_is_fetched_cleaned_and_merged(project):
    stages = set(re.findall(r"Running stage '([^']+)'", project.done.stdout))
    for name in ("rafdb", "oahega", "fed2023", "myfer"):
        assert {f"download@{name}", f"clean@{name}"} <= stages
    manifest = (project.path / "data/merged/manifest.csv").read_text()
    assert ",myfer,surprise,," not in manifest  # unmapped labels never reach the merged set
    record = json.loads((project.path / "data/raw/rafdb.source.json").read_text())
    assert record["source"] == "local" and len(record["sha256"]) == 64


def test_counts_add_up_to_the_files_on_disk(project, sources):
    _, files = sources
    totals = json.loads((project.path / "metrics/data.json").read_text())
    label_tables = {"rafdb": 2}  # train_labels.csv and test_labels.csv are not images
    for name, counts in totals["datasets"].items():
        assert counts["files"] == files[name] - label_tables.get(name, 0), name
        assert counts["files"] == counts["skipped"] + counts["decoded"]
        assert counts["decoded"] == counts["unmapped"] + counts["duplicates"] + counts["kept"]
    clean = json.loads((project.path / "metrics/clean/oahega.json").read_text())
    assert clean["skipped_by_reason"] == {"not an image": 1, "system file": 4}
    myfer = totals["datasets"]["myfer"]
    assert myfer["unmapped"] == 6 and myfer["kept"] > 0  # surprise: 3 train + 3 test


def test_a_missing_archive_is_one_sentence(project):
    done = project.dvc(
        "exp", "run", "-S", "data.local.fed2023=/nowhere/fed.zip", "merge", check=False
    )
    assert done.returncode != 0
    assert "error: /nowhere/fed.zip does not exist." in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
