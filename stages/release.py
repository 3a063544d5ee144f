"""release: release.variant's first-seed run -> models/release/ (a registered model).

Reads params.yaml (release, labels, train.seeds), models/<variant>/seed-<seed>/model.pt,
data/merged/dataset.npz (the validation split, for the temperature), that run's test metrics
(metrics/runs/<variant>/seed-<seed>/test.json) and metrics/data.json. Writes
models/release/{model.pt, model.onnx, model_card.json, MODEL_CARD.md, reliability.png} and
metrics/release.json (temperature, ECE before/after).
"""

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import write_json
from expressions.data.dataset import load_merged
from expressions.release.bundle import calibrate, run_metrics, write_release
from expressions.release.card import card_facts
from expressions.release.export import INPUT_SCALING
from expressions.release.reliability import reliability_diagram
from expressions.training.model_file import load_model


def main(argv: list[str]) -> None:
    cli.parser(__doc__).parse_args(argv)
    params = load_params()
    settings = params.release
    seed = params.first_seed
    loaded = load_model(paths.model(settings.variant, seed))
    variant = loaded.variant
    x_val, y_val = load_merged(paths.DATASET).part("val")
    calib, before, after = calibrate(loaded.model, variant, x_val, y_val, settings.ece_bins)
    totals = json.loads(paths.DATA_TOTALS.read_text()) if paths.DATA_TOTALS.is_file() else None
    facts = card_facts(
        variant,
        run_metrics(settings.variant, seed),
        asdict(calib),
        loaded.origins or {},
        params.labels.map,
        totals,
        INPUT_SCALING,
    )
    labels = np.asarray(y_val)

    def draw(target: Path) -> None:
        reliability_diagram(before, after, labels, calib.temperature, target)

    write_release(paths.RELEASE, replace(loaded, temperature=calib.temperature), facts, draw)
    write_json(paths.RELEASE_METRICS, {"variant": settings.variant, **asdict(calib)})
    print(
        f"release: {settings.variant} -> {paths.RELEASE}; temperature {calib.temperature:.3f}, "
        f"val ECE {calib.ece_before:.4f} -> {calib.ece_after:.4f}"
    )


if __name__ == "__main__":
    cli.run(main)
