"""MODEL_CARD.md, rendered from the card's facts (card.py): what the model is and on what data
in its first lines, then files, data and label map, recipe, Table 2, per-class recall,
calibration, known limits, licence, intended and forbidden uses, and how it was built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expressions.core.atomic import write_text
from expressions.release.card import CARD, FACTS, CardData, ModelCard


def write_card(folder: Path, card: ModelCard) -> None:
    """model_card.json and MODEL_CARD.md into `folder`, each written then renamed."""
    write_text(folder / FACTS, card.to_json())
    write_text(folder / CARD, render(card))


def _table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _data_lines(data: CardData, classes: list[str]) -> list[str]:
    mapping = [
        [dataset, original, target]
        for dataset, labels in data.label_map.items()
        for original, target in (labels or {}).items()
    ]
    lines = [
        "## Data and label map",
        "",
        *([data.description, ""] if data.description else []),
        f"Classes: {', '.join(classes)}. Each source label below maps to a class; other "
        "labels are dropped (and counted in `metrics/data.json`).",
        "",
        _table(["dataset", "source"], [[d, s] for d, s in data.datasets.items()]),
        "",
        _table(["dataset", "original label", "class"], mapping),
    ]
    totals = data.totals or {}
    if isinstance(totals.get("datasets"), dict):
        keys = ("files", "skipped", "unmapped", "duplicates", "kept")
        rows = [[name, *(t.get(k, "") for k in keys)] for name, t in totals["datasets"].items()]
        lines += [
            "",
            "Files per dataset (`metrics/data.json`):",
            "",
            _table(["dataset", *keys], rows),
        ]
    if isinstance(totals.get("classes"), dict):
        keys = ("train", "val", "test", "total")
        rows = [[name, *(t.get(k, "") for k in keys)] for name, t in totals["classes"].items()]
        lines += ["", "Images per class and split:", "", _table(["class", *keys], rows)]
    return lines


def _averaged(card: ModelCard) -> str:
    """How the probabilities are averaged over test-time views (data/views.py)."""
    crops, flip = card.tta_crops, card.tta_flip
    if crops:
        return ", averaged over five crops (corners and centre)" + (
            " and their mirrors." if flip else "."
        )
    return ", averaged with the mirrored face's." if flip else "."


def _headline(card: ModelCard) -> list[str]:
    """The card's first lines: what the model is, and on what data, before anything else."""
    data, classes = card.data, card.classes
    size = card.image_size
    lines = [
        f"# Model card: {card.name}",
        "",
        f"A {len(classes)}-class facial-expression classifier (variant `{card.variant}`) on "
        f"{size}x{size} grayscale face crops: {', '.join(classes)}.",
        "",
    ]
    if data.real_faces:
        lines.append(f"**Trained on real faces**: {data.summary}.")
    else:
        lines.append(
            f"**Trained on drawn faces** ({data.summary}): **not for photos of people**. "
            "The numbers below describe drawn faces; retrain on real data (README: Real data) "
            "before any use on people."
        )
    return [*lines, ""]


def _speed_lines(card: ModelCard) -> list[str]:
    """How fast it classifies, as measured where it was built (a shipped model's card)."""
    speed = card.speed
    if speed is None:
        return []
    return [
        "## Speed",
        "",
        f"{speed.faces_per_s:,} faces/s through `{speed.command}` ({speed.faces:,} "
        f"faces, decoding included, after the model is loaded) on a {speed.machine}, load "
        f"average {speed.load_average[0]:.2f}, {speed.measured}.",
        "",
    ]


def _distilled_lines(card: ModelCard) -> list[str]:
    """A student's teacher, and what one view and int8 cost against it."""
    d = card.distilled
    if not d:
        return []
    int8, val = d["int8"], d["int8"]["val"]
    kept = "kept" if int8["kept"] else "not kept"
    return [
        "## Distilled",
        "",
        f"A one-view student of `{d['teacher']}` (its test accuracy over its views: "
        f"{d['teacher_test_accuracy']:.3f}), trained on the teacher's probabilities for "
        f"{d['copies']} labelled cop{'y' if d['copies'] == 1 else 'ies'} of each training face "
        f"(temperature {d['temperature']}), starting from its weights; float32 test accuracy "
        f"{d['student_float32_test_accuracy']:.3f}. Runs as {d['runtime']}. int8 (static, "
        f"calibrated on validation faces) scored {val['int8_accuracy']:.3f} on validation "
        f"against float32's {val['float32_accuracy']:.3f} (agreement {val['agreement']:.1%}): "
        f"{kept}, the tolerance being {100 * int8['tolerance']:.1f} points.",
        "",
    ]


def render(card: ModelCard) -> str:
    """MODEL_CARD.md from the facts: data, recipe, Table 2, per-class recall, calibration,
    limits, intended and forbidden uses, and how it was built."""
    test, calib, classes = card.test, card.calibration, card.classes
    per_class = test["per_class"]
    support = {c: m["support"] for c, m in per_class.items()}
    minority = min(support, key=support.get)
    weakest = min(per_class, key=lambda c: per_class[c]["recall"])
    macro, micro = test["macro"], test["micro"]
    lines = [
        *_headline(card),
        "## Files",
        "",
        "- `model.pt`: PyTorch weights, settings and temperature (load with "
        "`torch.load(..., weights_only=True)`; `expressions predict --model <this folder>`).",
        "- `model.onnx`: the same network for onnxruntime, dynamic batch axis; metadata holds "
        "`classes`, `image_size`, `input_scaling`, `temperature`, `tta_flip`, `tta_crops`, `crop`.",
        *(
            ["- `model.int8.onnx`: the same in int8 (what `expressions predict` runs by default)."]
            if (card.distilled or {}).get("int8", {}).get("kept")
            else []
        ),
        f"- `{FACTS}`: every fact of this card, as JSON.",
        f"- Input: {card.input}. Output: logits; probabilities = softmax(logits / temperature)"
        + _averaged(card),
        "",
        *_data_lines(card.data, classes),
        "",
        "## Training recipe",
        "",
        f"Model: `{json.dumps(card.recipe['model'])}`",
        "",
        f"Training: `{json.dumps(card.recipe['train'])}`",
        "",
        f"## Table 2 on the test split ({test['images']} images)",
        "",
        _table(
            ["accuracy", "macro P", "macro R", "macro F1 (study)", "macro F1 (sklearn)"],
            [
                [
                    f"{test['accuracy']:.3f}",
                    f"{macro['precision']:.3f}",
                    f"{macro['recall']:.3f}",
                    f"{macro['f1_study']:.3f}",
                    f"{macro['f1']:.3f}",
                ]
            ],
        ),
        "",
        f"Micro P/R/F1: {micro['precision']:.3f} / {micro['recall']:.3f} / {micro['f1']:.3f}.",
        "",
        "## Per-class recall (test split)",
        "",
        _table(
            ["class", "precision", "recall", "test images"],
            [
                [c, f"{m['precision']:.3f}", f"{m['recall']:.3f}", m["support"]]
                for c, m in per_class.items()
            ],
        ),
        "",
        "## Calibration",
        "",
        f"Temperature scaling fitted on the validation split ({calib['val_images']} images): "
        f"T = {calib['temperature']:.4f}. Predictions (argmax) are unchanged; probabilities are "
        "softmax(logits / T).",
        "",
        _table(
            ["", "ECE", "NLL"],
            [
                ["before (T = 1)", f"{calib['ece_before']:.4f}", f"{calib['nll_before']:.4f}"],
                [
                    f"after (T = {calib['temperature']:.2f})",
                    f"{calib['ece_after']:.4f}",
                    f"{calib['nll_after']:.4f}",
                ],
            ],
        ),
        "",
        "Reliability diagram: `reliability.png` beside this card.",
        "",
        "## Known limits",
        "",
        f"- The minority class is {minority} ({support[minority]} test images); "
        f"the lowest recall is {weakest} ({per_class[weakest]['recall']:.3f}). Expect it to be "
        "missed more often than the others.",
        f"- Trained on {card.image_size} px grayscale crops of mostly frontal faces: profile "
        "views, occlusion, extreme lighting and very small faces (< 20 px) are out of distribution.",
        f"- {len(classes)} classes: any other expression is forced into one of them.",
        "",
    ]
    lines += _speed_lines(card) + _distilled_lines(card)
    if card.licence:
        lines += ["## Licence", "", card.licence, ""]
    lines += [
        "## Intended use",
        "",
        "Research and teaching on expression recognition; aggregate, consented analysis (e.g. "
        "how an audience reacts to material) where an error harms nobody.",
        "",
        "## Must not be used for",
        "",
        "Decisions about individuals (hiring, grading, policing, credit, health, border control), "
        "inferring emotions, intent, honesty or character, surveillance or identification of "
        "people, or any use without the knowledge and consent of those pictured. An expression "
        "is not a feeling.",
        "",
        "## How it was built",
        "",
        card.built or "`dvc repro release` in this project's DVC pipeline.",
        "",
    ]
    return "\n".join(lines)
