"""How recipes are chosen: train each one, score it on VALIDATION, never on test.

    python tools/recipe_search.py [NAME ...] [--recipes FILE] [--params FILE]
                                       [--data NPZ] [--processes N] [--out FILE]

A recipe is a variant's overrides, as under `variants:` in params.yaml (`model:` and `train:`
over the base sections), run once: its `train.seed` names the run's seed (default: the first of
train.seeds). Without --recipes, the built-in grid below over `main` on the default
synthetic data (needs data/merged/dataset.npz: run `make repro` or `dvc repro merge` first; about
5 minutes on 2 CPU cores). With --recipes tools/recipes/fer2013.yaml and the scratch project
that `tools/real.py --keep DIR` leaves (--params DIR/params.yaml --data
DIR/data/merged/dataset.npz), the search on FER2013 that chose `tuned` and `pretrained`.

Selection uses the validation split alone; the test split is left for the pipeline's evaluate
stage, so the gains the README states are not fitted to the test set. --processes N trains N
recipes at once, each on its share of the CPU cores (or all on one GPU: runtime.device auto).
Results are written after each recipe, so a long search keeps what it measured.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from expressions.analysis.evaluation import predict_split
from expressions.analysis.metrics import classification_metrics
from expressions.config import Params, Run, load_params, read_yaml
from expressions.core.atomic import write_json
from expressions.data.dataset import load_merged
from expressions.training.device import pick_device, usable_cpus
from expressions.training.distributed import Runtime
from expressions.training.loop import train

SAMPLER = {"balance": "sampler", "augment": True, "schedule": "cosine", "warmup_epochs": 1}
RECIPES: dict[str, dict] = {  # train overrides over `main`, for the synthetic default data
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
}


def builtin_recipes(params: Params) -> dict[str, dict]:
    """The synthetic grid as variant overrides, with params.yaml's own `tuned` beside it."""
    recipes = {name: {"train": train} for name, train in RECIPES.items()}
    recipes["tuned"] = params.variants["tuned"]
    return recipes


def score(name: str, overrides: dict, params_file: Path, data: Path, threads: int) -> dict:
    """Train one recipe and score it on validation (runs in a worker process)."""
    params = load_params(params_file)
    train_overrides = {**overrides.get("train", {})}
    seed = train_overrides.pop("seed", params.first_seed)  # a recipe is one run: its seed
    params.variants[name] = {**overrides, "train": train_overrides}
    run = Run(params.variant(name), seed)  # validated as a variant in params.yaml
    variant = run.variant
    merged = load_merged(data)
    start = time.perf_counter()
    device = pick_device(params.runtime.device)
    runtime = Runtime(device, threads=threads or params.runtime.threads)
    trained = train(run, merged, runtime=runtime)
    val = predict_split(trained.model, merged, variant, device, "val")
    metrics = classification_metrics(val.actual, val.predicted, merged.classes)
    return {
        "recipe": name,
        "overrides": overrides,
        "val_accuracy": metrics["accuracy"],
        "val_macro_f1": metrics["macro"]["f1"],
        "val_macro_f1_study": metrics["macro"]["f1_study"],
        "val_recall": {c: m["recall"] for c, m in metrics["per_class"].items()},
        "epochs_kept_run": [trained.kept_epoch, len(trained.history)],
        "seconds": round(time.perf_counter() - start, 1),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recipes to run (default: all)")
    parser.add_argument("--recipes", type=Path, help="YAML: name -> variant overrides")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", type=Path, default=Path("data/merged/dataset.npz"))
    parser.add_argument("--processes", type=int, default=1, help="recipes trained at once")
    parser.add_argument("--out", type=Path, default=Path("bench-results/recipes.json"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    params = load_params(args.params)
    recipes = read_yaml(args.recipes) if args.recipes else builtin_recipes(params)
    unknown = sorted(set(args.names) - set(recipes))
    if unknown:
        raise SystemExit(f"error: recipe {unknown[0]!r} is not in {args.recipes or 'the grid'}")
    names = args.names or list(recipes)
    if not args.data.is_file():
        raise SystemExit(f"error: {args.data} not found; run `dvc repro merge` (or real.py --keep)")
    threads = max(1, usable_cpus() // args.processes) if args.processes > 1 else 0
    rows = []
    spawn = multiprocessing.get_context("spawn")  # torch in forked children can deadlock
    with ProcessPoolExecutor(args.processes, mp_context=spawn) as pool:
        jobs = [
            pool.submit(score, name, recipes[name], args.params, args.data, threads)
            for name in names
        ]
        for job in as_completed(jobs):
            rows.append(job.result())
            write_json(args.out, rows)
    print(f"\n{'recipe':<28}{'val acc':>9}{'macro F1':>10}{'study F1':>10}{'kept/run':>9}{'s':>7}")
    for r in sorted(rows, key=lambda r: -r["val_accuracy"]):
        kept, run = r["epochs_kept_run"]
        print(
            f"{r['recipe']:<28}{r['val_accuracy']:>9.3f}{r['val_macro_f1']:>10.3f}"
            f"{r['val_macro_f1_study']:>10.3f}{f'{kept}/{run}':>9}{r['seconds']:>7.0f}"
        )


if __name__ == "__main__":
    main()
