"""How the `tuned` variant was chosen: train `main` with each recipe, score it on VALIDATION.

    python benchmarks/recipe_search.py [NAME ...] [--out bench-results/recipes.json]

Needs data/merged/dataset.npz (run `make repro` or `dvc repro merge` first). Selection uses the
validation split's macro F1 only; the test split is left for the pipeline's evaluate stage, so
the gain the README states for `tuned` is not fitted to the test set. About 5 minutes for all
recipes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from expressions.analysis.evaluation import predict_split
from expressions.analysis.metrics import classification_metrics
from expressions.atomic import write_json
from expressions.config import load_params
from expressions.data.dataset import load_merged
from expressions.training.device import pick_device
from expressions.training.loop import train

SAMPLER = {"balance": "sampler", "augment": True, "schedule": "cosine", "warmup_epochs": 1}
RECIPES: dict[str, dict] = {
    "study": {},
    "weighted_loss": {"balance": "weighted_loss"},
    "sampler": {"balance": "sampler"},
    "weighted_aug_cos_ls_wd_e8": {
        "balance": "weighted_loss",
        "augment": True,
        "schedule": "cosine",
        "warmup_epochs": 1,
        "label_smoothing": 0.1,
        "weight_decay": 0.0001,
        "epochs": 8,
    },
    "sampler_aug_cos_e8": {**SAMPLER, "epochs": 8},
    "sampler_cos_e8_no_aug": {**SAMPLER, "augment": False, "epochs": 8},
    "sampler_aug_cos_e8_ls": {**SAMPLER, "epochs": 8, "label_smoothing": 0.1},
    "sampler_aug_cos_e12": {**SAMPLER, "epochs": 12},
    "tuned": {},  # filled from params.yaml's variants.tuned below
}


def score(name: str, overrides: dict, params, merged) -> dict:
    base = params.variant("main")
    variant = dataclasses.replace(
        base, name=name, train=dataclasses.replace(base.train, **overrides)
    )
    start = time.perf_counter()
    model = train(variant, merged).model
    val = predict_split(model, merged, variant.train, pick_device(variant.train.device), "val")
    metrics = classification_metrics(val.actual, val.predicted, merged.classes)
    return {
        "recipe": name,
        "overrides": overrides,
        "val_accuracy": metrics["accuracy"],
        "val_macro_f1": metrics["macro"]["f1"],
        "val_macro_f1_study": metrics["macro"]["f1_study"],
        "val_recall": {c: m["recall"] for c, m in metrics["per_class"].items()},
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=list(RECIPES), help="names to run")
    parser.add_argument("--data", type=Path, default=Path("data/merged/dataset.npz"))
    parser.add_argument("--out", type=Path, default=Path("bench-results/recipes.json"))
    args = parser.parse_args()
    params = load_params()
    RECIPES["tuned"] = params.variants["tuned"]["train"]
    merged = load_merged(args.data)
    rows = []
    for name in args.recipes:
        rows.append(score(name, RECIPES[name], params, merged))
        write_json(args.out, rows)  # after each recipe: a long search keeps what it measured
    print(f"\n{'recipe':<28}{'val acc':>9}{'macro F1':>10}{'study F1':>10}{'seconds':>9}")
    for r in rows:
        print(
            f"{r['recipe']:<28}{r['val_accuracy']:>9.3f}{r['val_macro_f1']:>10.3f}"
            f"{r['val_macro_f1_study']:>10.3f}{r['seconds']:>9.0f}"
        )


if __name__ == "__main__":
    main()
