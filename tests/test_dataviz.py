"""Data figures: counts, plot data files, seeded samples, fixed-size PNGs, the visualize stage."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from expressions.analysis import data_figures as dataviz
from expressions.analysis import figures
from expressions.core.errors import AnalysisError
from expressions.data.dataset import SPLITS, Merged, save_merged
from helpers.builders import CLASSES, ROOT, load_stage, make_manifest, make_merged, png_size


def test_class_colors_are_fixed_distinct_and_cover_unknown_classes():
    colors = figures.class_colors(["Neutral", "Sad", "Angry", "Fear"])
    assert colors["Angry"] == figures.CLASS_COLORS["Angry"]
    assert colors["Neutral"] == figures.CLASS_COLORS["Neutral"]
    assert len(set(colors.values())) == 4
    assert figures.class_colors(CLASSES) == figures.class_colors(list(CLASSES))


def test_split_counts_include_zeros_and_sum_to_the_dataset():
    merged = make_merged()
    keep = merged.y != 3  # Neutral gets no images at all
    merged = Merged(merged.x[keep], merged.y[keep], merged.split[keep], CLASSES)
    counts = dataviz.split_counts(merged)
    assert len(counts) == len(CLASSES) * len(SPLITS)
    assert counts["count"].sum() == len(merged.y)
    assert counts.query("`class` == 'Neutral'")["count"].tolist() == [0, 0, 0]
    assert counts["bar"].iloc[0] == "Angry / train"


def test_source_counts_follow_the_manifest():
    merged = make_merged()
    sources = dataviz.source_counts(merged, make_manifest(merged))
    table = sources.set_index(["dataset", "class"])["count"]
    assert table[("fed2023", "Engaged")] == int((merged.y == 1).sum())
    assert table[("fed2023", "Angry")] == 0
    assert sources["count"].sum() == len(merged.y)


def test_read_manifest_rejects_a_manifest_of_another_dataset(tmp_path):
    merged = make_merged()
    path = tmp_path / "manifest.csv"
    make_manifest(merged).iloc[:-1].to_csv(path, index=False)
    with pytest.raises(AnalysisError, match="59 rows but the dataset has 60"):
        dataviz.read_manifest(path, merged)
    make_manifest(merged).drop(columns="dataset").to_csv(path, index=False)
    with pytest.raises(AnalysisError, match="lacks column"):
        dataviz.read_manifest(path, merged)


def test_sample_choice_is_seeded():
    y = np.repeat(np.arange(4), 20)
    same = dataviz.pick_samples(y, 4, 5, seed=3), dataviz.pick_samples(y, 4, 5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(*same, strict=True))
    assert all(set(y[rows]) == {c} for c, rows in enumerate(same[0]))
    other = dataviz.pick_samples(y, 4, 5, seed=4)
    assert not all(np.array_equal(a, b) for a, b in zip(same[0], other, strict=True))


def test_visualize_writes_plot_data_and_pngs_of_fixed_size(tmp_path):
    merged = make_merged()
    written = dataviz.visualize(merged, make_manifest(merged), tmp_path, seed=0)
    assert sorted(p.name for p in written) == [
        "class_counts.png",
        "counts.csv",
        "intensity.png",
        "samples.png",
        "sources.csv",
    ]
    assert png_size(tmp_path / "class_counts.png") == (1200, 500)
    assert png_size(tmp_path / "intensity.png") == (1000, 500)
    assert png_size(tmp_path / "samples.png") == figures.pixel_size(*dataviz.samples_size(4, 8))
    assert png_size(tmp_path / "samples.png") == (1120, 670)
    counts = pd.read_csv(tmp_path / "counts.csv")
    assert list(counts.columns) == ["class", "split", "count", "bar"]
    assert list(pd.read_csv(tmp_path / "sources.csv").columns) == [
        "dataset",
        "class",
        "count",
        "bar",
    ]
    assert not list(tmp_path.glob(".tmp-*"))


def test_samples_grid_with_a_class_smaller_than_the_row(tmp_path):
    merged = make_merged(n=12)  # one image per class and split: 3 per class, 8 slots per row
    path = dataviz.plot_samples(merged, ["rafdb"] * 12, tmp_path / "s.png", per_class=8)
    assert png_size(path) == (1120, 670)


def test_visualize_stage_writes_plots_data(tmp_path):
    merged = make_merged()
    data = tmp_path / "merged"
    save_merged(data / "dataset.npz", merged)
    make_manifest(merged).to_csv(data / "manifest.csv", index=False)
    load_stage("visualize").main(["--data", str(data), "--out", str(tmp_path / "out")])
    assert png_size(tmp_path / "out" / "class_counts.png") == (1200, 500)
    with pytest.raises(AnalysisError, match="run `dvc repro merge` first"):
        load_stage("visualize").main(["--data", str(tmp_path / "nowhere")])


def test_visualize_stage_reports_one_sentence_and_exit_1(tmp_path):
    pytest.importorskip(
        "expressions.data.fetch", reason="expressions.core.cli needs expressions.data.fetch"
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "visualize.py"), "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "dataset.npz not found" in done.stderr
