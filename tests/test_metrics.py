"""The study's tables against scikit-learn, and test-set prediction with and without mirror TTA."""

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import (
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from torch import nn

from expressions.analysis.evaluation import Predictions, predict_proba, predictions_frame
from expressions.analysis.metrics import (
    by_source,
    classification_metrics,
    format_tables,
    harmonic_mean,
)
from expressions.core.errors import AnalysisError
from expressions.data.views import views

CLASSES = ("Angry", "Engaged", "Happy", "Neutral")
ACTUAL = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
PREDICTED = [0, 0, 0, 0, 0, 1, 1, 0, 0, 2, 3, 3]


def test_per_class_macro_and_micro_match_scikit_learn():
    m = classification_metrics(ACTUAL, PREDICTED, CLASSES)
    for average in ("macro", "micro"):
        assert m[average]["precision"] == pytest.approx(
            precision_score(ACTUAL, PREDICTED, average=average), abs=1e-6
        )
        assert m[average]["recall"] == pytest.approx(
            recall_score(ACTUAL, PREDICTED, average=average), abs=1e-6
        )
        assert m[average]["f1"] == pytest.approx(
            f1_score(ACTUAL, PREDICTED, average=average), abs=1e-6
        )
    scorers = {"precision": precision_score, "recall": recall_score, "f1": f1_score}
    for key, scorer in scorers.items():
        expected = scorer(ACTUAL, PREDICTED, average=None)
        got = [m["per_class"][name][key] for name in CLASSES]
        assert got == pytest.approx(expected, abs=1e-6)
    assert [m["per_class"][name]["support"] for name in CLASSES] == [6, 3, 2, 1]
    assert m["accuracy"] == pytest.approx(8 / 12, abs=1e-6) == m["micro"]["f1"]
    assert m["test_images"] == 12


def test_random_predictions_with_missing_classes_match_scikit_learn_everywhere():
    rng = np.random.default_rng(0)
    for trial in range(50):
        n = int(rng.integers(2, 8))
        size = int(rng.integers(1, 40))
        actual = rng.integers(0, n, size)
        predicted = np.where(rng.random(size) < 0.5, actual, rng.integers(0, n, size))
        classes = [f"c{i}" for i in range(n)]
        m = classification_metrics(actual, predicted, classes)
        labels = list(range(n))
        p, r, f, support = precision_recall_fscore_support(
            actual, predicted, labels=labels, zero_division=0
        )
        got = np.array(
            [[m["per_class"][c][k] for c in classes] for k in ("precision", "recall", "f1")]
        )
        np.testing.assert_allclose(got, [p, r, f], atol=1e-6, err_msg=f"trial {trial}")
        assert [m["per_class"][c]["support"] for c in classes] == support.tolist()
        for average in ("macro", "micro"):
            expected = precision_recall_fscore_support(
                actual, predicted, labels=labels, average=average, zero_division=0
            )[:3]
            got = [m[average][k] for k in ("precision", "recall", "f1")]
            np.testing.assert_allclose(got, expected, atol=1e-6, err_msg=f"trial {trial}")
        sources = rng.choice(["a", "b"], size)
        for source, scores in by_source(actual, predicted, sources).items():
            mine = sources == source
            expected = f1_score(
                actual[mine],
                predicted[mine],
                labels=np.unique(actual[mine]),
                average="macro",
                zero_division=0,
            )
            assert scores["macro_f1"] == pytest.approx(expected, abs=1e-6)


def test_no_images_to_score_is_one_sentence():
    with pytest.raises(AnalysisError, match="the test split is empty"):
        classification_metrics([], [], CLASSES)


def test_the_studys_macro_f1_is_the_harmonic_mean_of_macro_precision_and_recall():
    m = classification_metrics(ACTUAL, PREDICTED, CLASSES)
    p, r = (
        precision_score(ACTUAL, PREDICTED, average="macro"),
        recall_score(ACTUAL, PREDICTED, average="macro"),
    )
    assert m["macro"]["f1_study"] == pytest.approx(2 * p * r / (p + r), abs=1e-6)
    assert m["macro"]["f1_study"] != m["macro"]["f1"]  # the two definitions differ here
    assert harmonic_mean(0.0, 0.0) == 0.0


def test_a_never_predicted_class_scores_zero_and_the_json_has_the_agreed_layout():
    m = classification_metrics([0, 1, 2, 3], [0, 0, 0, 0], CLASSES)
    assert m["per_class"]["Happy"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert set(m) == {"accuracy", "macro", "micro", "per_class", "test_images"}
    assert set(m["macro"]) == {"precision", "recall", "f1", "f1_study"}
    assert set(m["micro"]) == {"precision", "recall", "f1"}
    json.dumps(m)  # plain types only
    assert "Happy" in format_tables(m)


class LeftMinusRight(nn.Module):
    """Logits that change when the image is mirrored: class 0 likes a bright left half."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        d = x[..., :half].mean((1, 2, 3)) - x[..., half:].mean((1, 2, 3))
        return torch.stack([4 * d, -4 * d, torch.zeros_like(d), torch.zeros_like(d)], 1)


def test_tta_averages_the_probabilities_of_the_image_and_its_mirror():
    x = np.random.default_rng(0).integers(0, 256, (5, 8, 8)).astype(np.uint8)
    model, cpu = LeftMinusRight(), torch.device("cpu")
    plain = predict_proba(model, x, 2, cpu)
    mirrored = predict_proba(model, x[:, :, ::-1], 2, cpu)
    tta = predict_proba(model, x, 2, cpu, views=views(8, flip=True, crops=False, crop=1.0))
    np.testing.assert_allclose(tta, (plain + mirrored) / 2, rtol=1e-6)
    np.testing.assert_allclose(tta[:, 0], tta[:, 1], rtol=1e-6)  # this model's bias cancels
    np.testing.assert_allclose(plain.sum(1), 1, rtol=1e-6)


def test_the_predictions_table_names_classes_and_keeps_dataset_rows():
    proba = np.array([[0.7, 0.1, 0.1, 0.1], [0.2, 0.2, 0.5, 0.1]], np.float32)
    frame = predictions_frame(Predictions(np.array([17, 3]), np.array([0, 3]), proba, 1.0), CLASSES)
    assert list(frame.columns) == ["index", "actual", "predicted", "confidence"] + [
        f"p_{c}" for c in CLASSES
    ]
    assert frame["index"].tolist() == [17, 3]
    assert frame["actual"].tolist() == ["Angry", "Neutral"]
    assert frame["predicted"].tolist() == ["Angry", "Happy"]
    assert frame["confidence"].tolist() == pytest.approx([0.7, 0.5])


def test_each_source_is_scored_on_its_own_share_over_the_classes_it_has():
    sources = ["a"] * 9 + ["b"] * 3  # b holds classes 2 and 3 only
    scores = by_source(ACTUAL, PREDICTED, sources)
    assert list(scores) == ["a", "b"]
    assert scores["a"]["images"] == 9 and scores["b"]["images"] == 3
    assert scores["a"]["accuracy"] == round(6 / 9, 6)
    assert scores["a"]["macro_f1"] == round(f1_score(ACTUAL[:9], PREDICTED[:9], average="macro"), 6)
    # b: actual [2, 2, 3], predicted [2, 3, 3]; classes 0 and 1 are not b's to score
    assert scores["b"]["classes"] == 2
    assert scores["b"]["macro_f1"] == round(
        f1_score([2, 2, 3], [2, 3, 3], labels=[2, 3], average="macro"), 6
    )
