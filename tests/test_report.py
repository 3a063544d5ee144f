"""The report: numbers equal the metrics JSON, the study's epoch lines, data counts, the stage,
and the proposed top-level `plots:` of dvc.yaml rendered by a real `dvc plots show`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from expressions.analysis import report, report_markdown
from expressions.analysis.metrics import by_source, classification_metrics
from expressions.analysis.seeds import summarize
from expressions.config import read_yaml
from expressions.core import paths
from expressions.core.errors import AnalysisError
from helpers.builders import CLASSES, load_stage

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("main", "variant1", "variant2")
SEEDS = (0, 1)
CURVE_TSV = "dvclive/{v}/seed-0/plots/metrics/{m}.tsv"
TEST_IMAGES = 120


def write_curves(root: Path, variant: str, seed: int, epochs: int = 3, percent=False) -> None:
    """dvclive TSVs (timestamp, step, metric) of the first seed's run, as dvclive writes them."""
    rng = np.random.default_rng(seed)
    for m in ("train_loss", "val_loss", "val_acc"):
        path = root / CURVE_TSV.format(v=variant, m=m)
        path.parent.mkdir(parents=True, exist_ok=True)
        values = rng.uniform(0.3, 0.9, epochs) * (100 if percent and m == "val_acc" else 1)
        rows = [f"{1_700_000_000_000 + s}\t{s}\t{float(x)!r}" for s, x in enumerate(values)]
        path.write_text("\n".join([f"timestamp\tstep\t{m}", *rows]) + "\n")


def write_run(root: Path, variant: str, number: int, seed: int) -> None:
    """One run's test.json and predictions.csv, computed by the project's own metrics from made-up
    predictions on the same test images for every run (variant `number` is right more often)."""
    actual = np.random.default_rng(99).integers(0, len(CLASSES), TEST_IMAGES)
    rng = np.random.default_rng([number, seed])
    right = rng.random(TEST_IMAGES) < 0.55 + 0.1 * number
    predicted = np.where(right, actual, rng.integers(0, len(CLASSES), TEST_IMAGES))
    names = np.asarray(CLASSES)
    sources = np.where(actual == CLASSES.index("Engaged"), "fed2023", "rafdb")
    metrics = classification_metrics(actual, predicted, CLASSES)
    metrics["by_source"] = by_source(actual, predicted, sources)
    frame = pd.DataFrame(
        {"index": np.arange(TEST_IMAGES), "actual": names[actual], "predicted": names[predicted]}
    )
    path = root / paths.run_metrics(variant, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))
    frame.to_csv(root / paths.run_predictions(variant, seed), index=False)
    log = root / paths.training_log(variant, seed)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(json.dumps({"kept_epoch": 3, "epochs_run": 3}))


def evaluate(root: Path, variant: str) -> None:
    """What evaluate@<variant> writes, from the runs (the stage's own function)."""
    runs = {s: json.loads((root / paths.run_metrics(variant, s)).read_text()) for s in SEEDS}
    frames = {s: pd.read_csv(root / paths.run_predictions(variant, s)) for s in SEEDS}
    headline, tables = summarize(variant, runs, frames, CLASSES)
    for path, content in ((paths.test_metrics(variant), headline), (paths.tables(variant), tables)):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(json.dumps(content))
    (root / "plots" / variant).mkdir(parents=True, exist_ok=True)
    frames[SEEDS[0]][["actual", "predicted"]].to_csv(
        root / "plots" / variant / "confusion.csv", index=False
    )


def make_root(root: Path, variants=VARIANTS) -> Path:
    """Every input of the report stage, made by the stages' own code from made-up runs."""
    for i, v in enumerate(variants):
        for seed in SEEDS:
            write_run(root, v, i, seed)
        evaluate(root, v)
        write_curves(root, v, i)
    data = {
        "total": {"files": 700, "skipped": 3, "kept": 578},
        "datasets": {"rafdb": {"files": 400, "kept": 350}, "fed2023": {"files": 300, "kept": 228}},
        "classes": {
            c: {"train": 100 + i, "val": 10 + i, "test": 30 + i, "total": 140 + 3 * i}
            for i, c in enumerate(CLASSES)
        },
        "sources": {
            c: {"rafdb": 0, "fed2023": 40} if c == "Engaged" else {"rafdb": 50, "fed2023": 0}
            for c in CLASSES
        },
    }
    (root / "metrics" / "data.json").write_text(json.dumps(data))
    return root


def table_row(markdown: str, first_cell: str, after: str) -> list[str]:
    """The cells of the first table row starting with `first_cell` after the line `after`."""
    lines = markdown.split(after, 1)[1].splitlines()
    row = next(line for line in lines if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in row.strip("|").split("|")][1:]


def test_report_numbers_equal_the_metrics_json(tmp_path):
    root = make_root(tmp_path)
    md, js = tmp_path / "metrics" / "report.md", tmp_path / "metrics" / "report.json"
    report.write_report(root, VARIANTS, md, js, SEEDS)
    written, text = json.loads(js.read_text()), md.read_text()
    for v in VARIANTS:
        metrics = json.loads((root / "metrics" / "tables" / f"{v}.json").read_text())
        metrics["accuracy"] = json.loads((root / "metrics" / "test" / f"{v}.json").read_text())[v][
            "acc"
        ]
        for c in CLASSES:
            for k in ("precision", "recall", "f1", "support"):
                assert written["table1"][v][c][k] == metrics["per_class"][c][k]
        for key, _, path in report_markdown.TABLE2:
            value = metrics[path[0]] if len(path) == 1 else metrics[path[0]][path[1]]
            assert written["table2"][v][key] == value
        assert written["table2"][v]["test_images"] == metrics["test_images"]
        cells = table_row(text, v, "## Table 2")
        t2 = written["table2"][v]
        expected = [str(len(SEEDS))]
        for key, _, _ in report_markdown.TABLE2:
            if key in report_markdown.INTERVALS:
                low, high = t2["intervals"][report_markdown.INTERVALS[key]]
                sd = t2[report_markdown.SPREAD[key]]
                expected += [f"{t2[key]:.4f} ± {sd:.4f}", f"[{low:.4f}, {high:.4f}]"]
            else:
                expected.append(f"{t2[key]:.4f}")
        assert cells == [*expected, str(TEST_IMAGES), "3"]
        accuracies = [metrics["runs"][str(s)]["accuracy"] for s in SEEDS]
        assert t2["accuracy"] == pytest.approx(np.mean(accuracies), abs=5e-5)  # 4 digits
        assert t2["accuracy_sd"] == pytest.approx(np.std(accuracies, ddof=1), abs=5e-5)
    for c in CLASSES:
        cells = table_row(text, c, "## Table 1")
        want = [written["table1"][v][c][k] for v in VARIANTS for k in ("precision", "recall")]
        assert cells == [f"{x:.4f}" for x in want]
    assert "Macro F1 (study)¹" in text and "harmonic mean of macro precision" in text


def test_epoch_lines_follow_the_study_format(tmp_path):
    write_curves(tmp_path, "main", 0, epochs=2)
    rows = report.epochs(tmp_path / "dvclive" / "main" / "seed-0")
    acc = pd.read_csv(tmp_path / CURVE_TSV.format(v="main", m="val_acc"), sep="\t")["val_acc"]
    loss = pd.read_csv(tmp_path / CURVE_TSV.format(v="main", m="val_loss"), sep="\t")["val_loss"]
    assert report_markdown.epoch_lines(rows) == [
        f"Epoch [{k + 1}/2], Validation Loss: {loss[k]:.4f}, Validation Accuracy: {acc[k] * 100:.2f}%"
        for k in range(2)
    ]
    write_curves(tmp_path, "pct", 0, epochs=2, percent=True)  # older runs logged percents
    assert [r["val_acc"] for r in report.epochs(tmp_path / "dvclive" / "pct" / "seed-0")] == (
        pytest.approx(list(acc))
    )


def test_report_markdown_sections_and_relative_links(tmp_path):
    root = make_root(tmp_path)
    report.write_report(root, ["main"], root / "metrics" / "report.md", root / "metrics" / "r.json")
    text = (root / "metrics" / "report.md").read_text()
    assert "Epoch [3/3], Validation Loss: " in text
    assert table_row(text, "Total", "## Data") == ["406", "46", "126", "578"]
    assert "[confusion matrix](../plots/main/confusion.png)" in text
    assert "## Most confused class pairs" in text and "| True class | Predicted as |" in text
    assert "| rafdb | 400 | 350 |" in text  # the rest of data.json, rendered generically


def test_report_names_the_missing_input(tmp_path):
    root = make_root(tmp_path, variants=("main",))
    with pytest.raises(AnalysisError, match=r"variant1\.json not found.*evaluate@variant1"):
        report.build_report(root, ["main", "variant1"])
    pd.DataFrame({"actual": ["Sad"], "predicted": ["Happy"]}).to_csv(
        root / "plots" / "main" / "confusion.csv", index=False
    )
    with pytest.raises(AnalysisError, match="names class 'Sad'"):
        report.build_report(root, ["main"])
    (root / CURVE_TSV.format(v="main", m="val_loss")).unlink()
    with pytest.raises(AnalysisError, match=r"val_loss\.tsv not found"):
        report.build_report(root, ["main"])


def test_report_stage_defaults_to_the_variants_in_params(tmp_path):
    variants = list(read_yaml(ROOT / "params.yaml")["variants"])
    root = make_root(tmp_path, variants)
    shutil.copy(ROOT / "params.yaml", root / "params.yaml")
    load_stage("report").main(["--root", str(root), "--out", str(root / "out")])
    assert json.loads((root / "out" / "report.json").read_text())["variants"] == variants
    assert "(../plots/variant2/errors.png)" in (root / "out" / "report.md").read_text()


def test_table2_by_source_and_where_each_class_comes_from(tmp_path):
    built = report.build_report(make_root(tmp_path), VARIANTS, SEEDS)
    md = report_markdown.render_markdown(built)
    after = "## Table 2 by source dataset"
    runs = [json.loads((tmp_path / paths.run_metrics("variant1", s)).read_text()) for s in SEEDS]
    mean = {
        (d, k): f"{np.mean([r['by_source'][d][k] for r in runs]):.4f}"
        for d in ("fed2023", "rafdb")
        for k in ("accuracy", "macro_f1")
    }
    mean["fed2023", "macro_f1"] = "one class"  # Engaged alone: its macro F1 compares nothing
    assert table_row(md, "variant1", after) == [
        mean[d, k] for d in ("fed2023", "rafdb") for k in ("accuracy", "macro_f1")
    ]
    fed = runs[0]["by_source"]["fed2023"]["images"]
    assert f"fed2023 {fed} images of 1 class, rafdb {TEST_IMAGES - fed} images of 3 classes" in md
    assert table_row(md, "Engaged", "Where each class comes from") == ["40", "0"]
    assert "Engaged comes from fed2023 only" in md and "Happy comes from rafdb only" in md


def test_differences_against_main_are_said_in_words(tmp_path):
    root = make_root(tmp_path)
    for seed in SEEDS:  # a variant whose runs predict exactly what main's do
        for path in (paths.run_metrics, paths.run_predictions, paths.training_log):
            target = root / path("twin", seed)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / path("main", seed), target)
    evaluate(root, "twin")
    write_curves(root, "twin", 0)
    built = report.build_report(root, [*VARIANTS, "twin"], SEEDS)
    text = report_markdown.render_markdown(built)
    twin = built["comparisons"]["twin"]
    assert twin["accuracy"]["sentence"] == (
        "twin - main: +0.0 points [+0.0, +0.0], not resolved at 95 %"
    )
    assert twin["mcnemar"]["p_value"] == 1.0 and twin["mcnemar"]["b"] + twin["mcnemar"]["c"] == 0
    best = built["comparisons"]["variant2"]["accuracy"]  # right 75 % of the time against 55 %
    assert best["low"] > 0 and best["sentence"].endswith(", resolved at 95 %")
    for c in built["comparisons"].values():
        assert c["accuracy"]["sentence"] in text and c["macro_f1"]["sentence"] in text
        assert c["accuracy"]["low"] <= c["accuracy"]["difference"] <= c["accuracy"]["high"]
    assert "## Differences against main (test set)" in text


def test_make_repros_summary_fits_a_terminal_and_names_a_one_class_source(tmp_path):
    from expressions.analysis.summary import summary

    root = make_root(tmp_path)
    md, js = tmp_path / "metrics" / "report.md", tmp_path / "metrics" / "report.json"
    report.write_report(root, VARIANTS, md, js, SEEDS)
    written = json.loads(js.read_text())
    text = summary(written)
    assert max(map(len, text.splitlines())) <= 80, text
    for v in VARIANTS:
        t2 = written["table2"][v]
        row = next(line for line in text.splitlines() if line.startswith(f"{v} "))
        assert f"{t2['accuracy']:.3f} ± {t2['accuracy_sd']:.3f}" in row
    assert "fed2023" in text and "(one class: accuracy is its" in text  # Engaged alone
    assert "one class" in md.read_text().split("## Table 2 by source dataset")[1]
