"""Analysis outputs: confusion counts and PNG, confused pairs, error gallery, feature maps, stage."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from expressions.analysis import confusion, error_gallery, feature_maps, variant_figures
from expressions.config import Run, parse_params
from expressions.core import paths
from expressions.core.errors import AnalysisError
from expressions.data.dataset import SPLITS, save_merged
from expressions.training.model import build_model
from expressions.training.model_file import save_model
from helpers.builders import (
    CLASSES,
    capture_figures,
    image_axes,
    load_stage,
    make_merged,
    png_size,
)
from helpers.e2e import tiny_params


class TinyNet(nn.Module):
    """The model contract in miniature: `blocks` of Conv->BN->LeakyReLU->MaxPool, then a head."""

    def __init__(self, depth: int = 2, side: int = 12, named: bool = False) -> None:
        super().__init__()
        widths = [1, 4, 5, 6]
        self.blocks = nn.ModuleList(
            nn.Sequential(
                OrderedDict(
                    conv=nn.Conv2d(widths[i], widths[i + 1], 3, padding=1),
                    norm=nn.BatchNorm2d(widths[i + 1]),
                    **{"act" if named else "relu": nn.LeakyReLU()},
                    pool=nn.MaxPool2d(2),
                )
            )
            for i in range(depth)
        )
        self.head = nn.Linear(widths[depth] * (side // 2**depth) ** 2, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(x.flatten(1))


def make_predictions(merged, wrong_every: int = 3) -> pd.DataFrame:
    """predictions.csv contract for the test split; every `wrong_every`-th image is a mistake."""
    rows = np.flatnonzero(merged.split == SPLITS.index("test"))
    actual = [CLASSES[merged.y[r]] for r in rows]
    predicted = [
        CLASSES[(merged.y[r] + 1) % 4] if i % wrong_every == 0 else a
        for i, (r, a) in enumerate(zip(rows, actual, strict=True))
    ]
    confidence = np.linspace(0.3, 0.99, len(rows))
    frame = pd.DataFrame(
        {"index": rows, "actual": actual, "predicted": predicted, "confidence": confidence}
    )
    for c in CLASSES:
        frame[f"p_{c}"] = np.where(frame["predicted"] == c, confidence, (1 - confidence) / 3)
    return frame


def test_confusion_counts_rates_and_pairs():
    actual = ["Angry", "Angry", "Angry", "Happy", "Happy", "Neutral"]
    predicted = ["Angry", "Happy", "Happy", "Angry", "Happy", "Neutral"]
    counts = confusion.confusion_counts(actual, predicted, CLASSES)
    assert counts.sum() == 6
    assert counts[0, 2] == 2 and counts[2, 0] == 1
    rates = confusion.row_rates(counts)
    assert rates[0].tolist() == pytest.approx([1 / 3, 0, 2 / 3, 0])
    assert rates[1].tolist() == [0, 0, 0, 0]  # Engaged has no test images: no division by zero
    pairs = confusion.confused_pairs(counts, CLASSES)
    assert pairs.to_dict("records") == [
        {"actual": "Angry", "predicted": "Happy", "count": 2, "share": 0.6667},
        {"actual": "Happy", "predicted": "Angry", "count": 1, "share": 0.5},
    ]
    assert confusion.confused_pairs(np.eye(4, dtype=int), CLASSES).empty


def test_confusion_figure_draws_every_cell_with_count_and_share(tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch, confusion)
    counts = np.array([[5, 1, 0, 0], [0, 3, 2, 0], [1, 0, 7, 0], [0, 0, 1, 4]])
    path = confusion.plot_confusion(counts, CLASSES, tmp_path / "c.png", title="main")
    assert png_size(path) == (880, 740)
    ax = drawn[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASSES)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASSES)
    cells = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
    }
    assert len(cells) == 16
    assert cells[(0, 0)] == "5\n83.3%" and cells[(2, 0)] == "1\n12.5%"
    assert ax.images[0].get_array()[2, 2] == pytest.approx(87.5)  # colour = share of the row
    assert "n=24" in ax.get_title()


def test_most_confident_errors_come_first():
    merged = make_merged()
    predictions = make_predictions(merged)
    errors = error_gallery.most_confident_errors(predictions, 3)
    assert (errors["actual"] != errors["predicted"]).all()
    assert errors["confidence"].is_monotonic_decreasing
    wrong = predictions[predictions["actual"] != predictions["predicted"]]
    assert errors["confidence"].iloc[0] == wrong["confidence"].max()


def test_error_gallery_shows_each_mistake_once_or_says_there_are_none(tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch, error_gallery)
    merged = make_merged()
    predictions = make_predictions(merged)
    path = error_gallery.plot_errors(predictions, merged, tmp_path / "e.png", title="m", n=16)
    assert png_size(path) == (1320, 470)
    panels = image_axes(drawn[0])
    shown = error_gallery.most_confident_errors(predictions, 16)
    assert len(panels) == len(shown) > 0
    for ax, row in zip(panels, shown.to_dict("records"), strict=True):
        assert ax.get_title().startswith(f"pred {row['predicted']}")
        assert ax.get_xlabel() == f"true {row['actual']}"
    right = predictions.assign(predicted=predictions["actual"])
    error_gallery.plot_errors(right, merged, tmp_path / "n.png", title="m")
    assert image_axes(drawn[1]) == []
    assert "no misclassified test images" in drawn[1].texts[0].get_text()


def test_one_seeded_test_image_per_class():
    merged = make_merged()
    picks = feature_maps.pick_per_class(merged, seed=1)
    assert picks == feature_maps.pick_per_class(merged, seed=1)
    assert [int(merged.y[r]) for r in picks] == [0, 1, 2, 3]
    assert all(merged.split[r] == SPLITS.index("test") for r in picks)


def test_feature_maps_hook_every_block_and_clean_up():
    model = TinyNet(depth=3)
    images = make_merged().x[:2]
    maps = feature_maps.feature_maps(model, images)
    assert [m.shape for m in maps] == [(2, 4, 6, 6), (2, 5, 3, 3), (2, 6, 1, 1)]
    assert all(not block._forward_hooks for block in model.blocks)
    strongest = feature_maps.strongest_channels(maps[0], 2)
    means = maps[0].mean(axis=(2, 3))
    assert means[0, strongest[0, 0]] == means[0].max()


def test_feature_maps_prefer_the_activation_before_pooling():
    model = TinyNet(depth=2, named=True)  # blocks name their LeakyReLU `act`, as model.py does
    maps = feature_maps.feature_maps(model, make_merged().x[:1])
    assert [m.shape for m in maps] == [(1, 4, 12, 12), (1, 5, 6, 6)]
    assert maps[0].min() < 0  # LeakyReLU output, not yet pooled


def test_feature_maps_need_blocks():
    with pytest.raises(AnalysisError, match=r"model\.blocks"):
        feature_maps.feature_maps(nn.Linear(2, 2), make_merged().x[:1])


def test_read_predictions_checks_the_contract(tmp_path):
    merged = make_merged()
    path = tmp_path / "predictions.csv"
    with pytest.raises(AnalysisError, match="run the evaluate stage"):
        variant_figures.read_predictions(path, merged)
    make_predictions(merged).assign(actual="Sad").to_csv(path, index=False)
    with pytest.raises(AnalysisError, match="'Sad'"):
        variant_figures.read_predictions(path, merged)
    make_predictions(merged).assign(index=999).to_csv(path, index=False)
    with pytest.raises(AnalysisError, match="index outside"):
        variant_figures.read_predictions(path, merged)


def test_analyze_writes_all_outputs(tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch, feature_maps)
    merged = make_merged()
    predictions = make_predictions(merged)
    torch.manual_seed(0)
    written = variant_figures.analyze("main", TinyNet(depth=2), merged, predictions, tmp_path)
    assert [p.name for p in written] == [
        "confusion.png",
        "confused_pairs.csv",
        "errors.png",
        "feature_maps.png",
    ]
    assert png_size(tmp_path / "confusion.png") == (880, 740)
    assert png_size(tmp_path / "feature_maps.png") == (1150, 620)  # 1 + 2 blocks x 4 channels
    maps = image_axes(drawn[-1])
    assert len(maps) == len(CLASSES) * (1 + 2 * 4)  # one row per class: input + 2 blocks x 4
    assert maps[1].get_title() == "block 1 · ch " + maps[1].get_title().split()[-1]
    pairs = pd.read_csv(tmp_path / "confused_pairs.csv")
    assert list(pairs.columns) == ["actual", "predicted", "count", "share"]
    wrong = predictions[predictions["actual"] != predictions["predicted"]]
    assert pairs["count"].sum() == len(wrong)  # few errors: every pair fits in the top 5


def test_analyze_stage_draws_the_runs_model_and_predictions(tmp_path, monkeypatch):
    merged = make_merged(side=16)
    save_merged(tmp_path / paths.DATASET, merged)
    predictions = tmp_path / paths.run_predictions("main", 1)
    predictions.parent.mkdir(parents=True)
    make_predictions(merged).to_csv(predictions, index=False)
    params = tiny_params(**{"data.image_size": 16, "model.channels": [4, 5, 6, 6, 6]})
    run = Run(parse_params(params).variant("main"), seed=1)
    model = build_model(run.variant.model, len(CLASSES), 16)
    save_model(tmp_path / paths.model("main", 1), model, run)
    monkeypatch.chdir(tmp_path)
    stage = load_stage("analyze")
    stage.main(["main", "--seed", "1"])
    assert png_size(tmp_path / "plots" / "main" / "feature_maps.png") == (1590, 620)  # 3 blocks
    with pytest.raises(AnalysisError, match=r"run `dvc repro train@variant1-0` first"):
        stage.main(["variant1"])
