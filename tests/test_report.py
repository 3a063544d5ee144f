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
from expressions.analysis.metrics import split_headline
from expressions.config import read_yaml
from expressions.core.errors import AnalysisError
from helpers.builders import CLASSES, load_stage

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("main", "variant1", "variant2")
CURVE_TSV = "dvclive/{v}/plots/metrics/{m}.tsv"


def fake_metrics(seed: int) -> dict:
    """metrics/test/<variant>.json by the contract, with distinct random numbers per variant."""
    rng = np.random.default_rng(seed)
    per_class = {
        c: {
            "precision": float(rng.uniform(0.4, 0.9)),
            "recall": float(rng.uniform(0.4, 0.9)),
            "f1": float(rng.uniform(0.4, 0.9)),
            "support": int(rng.integers(5, 50)),
        }
        for c in CLASSES
    }
    p, r = (float(np.mean([m[k] for m in per_class.values()])) for k in ("precision", "recall"))
    return {
        "accuracy": float(rng.uniform(0.5, 0.9)),
        "macro": {"precision": p, "recall": r, "f1": 0.61234, "f1_study": 2 * p * r / (p + r)},
        "micro": {"precision": 0.7011, "recall": 0.7022, "f1": 0.7033},
        "per_class": per_class,
        "test_images": sum(m["support"] for m in per_class.values()),
        "speed": {"images_per_s": 1234.5},
    }


def write_curves(root: Path, variant: str, seed: int, epochs: int = 3, percent=False) -> None:
    """dvclive TSVs (timestamp, step, metric), as dvclive writes them."""
    rng = np.random.default_rng(seed)
    for m in ("train_loss", "val_loss", "val_acc"):
        path = root / CURVE_TSV.format(v=variant, m=m)
        path.parent.mkdir(parents=True, exist_ok=True)
        values = rng.uniform(0.3, 0.9, epochs) * (100 if percent and m == "val_acc" else 1)
        rows = [f"{1_700_000_000_000 + s}\t{s}\t{float(x)!r}" for s, x in enumerate(values)]
        path.write_text("\n".join([f"timestamp\tstep\t{m}", *rows]) + "\n")


def make_root(root: Path, variants=VARIANTS) -> Path:
    """Every input of the report stage, faked by the contracts."""
    for kind in ("test", "tables", "training"):
        (root / "metrics" / kind).mkdir(parents=True, exist_ok=True)
    for i, v in enumerate(variants):
        metrics = fake_metrics(i)
        metrics["by_source"] = {
            "fed2023": {"images": 12, "classes": 2, "accuracy": 0.5 + i / 10, "macro_f1": 0.4},
            "rafdb": {"images": 28, "classes": 3, "accuracy": 0.8, "macro_f1": 0.7 - i / 10},
        }
        headline, tables = split_headline(metrics)
        (root / "metrics" / "test" / f"{v}.json").write_text(json.dumps(headline))
        (root / "metrics" / "tables" / f"{v}.json").write_text(json.dumps(tables))
        run = {"kept_epoch": 3, "epochs_run": 3, "train_images_per_s": 812.3, "seconds": 9.1}
        (root / "metrics" / "training" / f"{v}.json").write_text(json.dumps(run))
        write_curves(root, v, i)
        (root / "plots" / v).mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(i)
        actual = rng.choice(CLASSES, 40)
        predicted = np.where(rng.random(40) < 0.7, actual, rng.choice(CLASSES, 40))
        pd.DataFrame({"actual": actual, "predicted": predicted}).to_csv(
            root / "plots" / v / "confusion.csv", index=False
        )
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
    report.write_report(root, VARIANTS, md, js)
    written, text = json.loads(js.read_text()), md.read_text()
    for v in VARIANTS:
        metrics = json.loads((root / "metrics" / "test" / f"{v}.json").read_text())
        metrics |= json.loads((root / "metrics" / "tables" / f"{v}.json").read_text())
        for c in CLASSES:
            for k in ("precision", "recall", "f1", "support"):
                assert written["table1"][v][c][k] == metrics["per_class"][c][k]
        for key, _, path in report_markdown.TABLE2:
            value = metrics[path[0]] if len(path) == 1 else metrics[path[0]][path[1]]
            assert written["table2"][v][key] == value
        assert written["table2"][v]["test_images"] == metrics["test_images"]
        cells = table_row(text, v, "## Table 2")
        expected = [f"{written['table2'][v][k]:.4f}" for k, _, _ in report_markdown.TABLE2]
        assert cells == [*expected, str(metrics["test_images"]), "1234", "3", "812"]
    for c in CLASSES:
        cells = table_row(text, c, "## Table 1")
        want = [written["table1"][v][c][k] for v in VARIANTS for k in ("precision", "recall")]
        assert cells == [f"{x:.4f}" for x in want]
    assert "Macro F1 (study)¹" in text and "harmonic mean of macro precision" in text


def test_epoch_lines_follow_the_study_format(tmp_path):
    write_curves(tmp_path, "main", 0, epochs=2)
    rows = report.epochs(tmp_path / "dvclive" / "main")
    acc = pd.read_csv(tmp_path / CURVE_TSV.format(v="main", m="val_acc"), sep="\t")["val_acc"]
    loss = pd.read_csv(tmp_path / CURVE_TSV.format(v="main", m="val_loss"), sep="\t")["val_loss"]
    assert report_markdown.epoch_lines(rows) == [
        f"Epoch [{k + 1}/2], Validation Loss: {loss[k]:.4f}, Validation Accuracy: {acc[k] * 100:.2f}%"
        for k in range(2)
    ]
    write_curves(tmp_path, "pct", 0, epochs=2, percent=True)  # older runs logged percents
    assert [r["val_acc"] for r in report.epochs(tmp_path / "dvclive" / "pct")] == (
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
    md = report_markdown.render_markdown(report.build_report(make_root(tmp_path), VARIANTS))
    after = "## Table 2 by source dataset"
    assert table_row(md, "variant1", after) == ["0.6000", "0.4000", "0.8000", "0.6000"]
    assert "fed2023 12 images of 2 classes, rafdb 28 images of 3 classes" in md
    assert table_row(md, "Engaged", "Where each class comes from") == ["40", "0"]
    assert "Engaged comes from fed2023 only" in md and "Happy comes from rafdb only" in md
