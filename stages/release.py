"""release: the variant named by release.variant -> models/release/ (a registered model).

Reads params.yaml (release, labels), models/<variant>/model.pt, data/merged/dataset.npz (the
validation split, for the temperature), the variant's test metrics (metrics/test/<variant>.json,
metrics/tables/<variant>.json) and metrics/data.json. Writes models/release/{model.pt,
model.onnx, MODEL_CARD.md, reliability.png} and metrics/release.json (temperature, ECE
before/after).
"""

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from expressions import cli, paths
from expressions.atomic import write_json
from expressions.config import load_params, release_config
from expressions.data.dataset import load_merged
from expressions.serving import calibration
from expressions.serving.release import calibrate, model_card, test_metrics, write_release
from expressions.serving.torch_model import load_checkpoint


def main(argv: list[str]) -> None:
    cli.parser(__doc__).parse_args(argv)
    params = load_params()
    settings = release_config(params)
    model, variant, _ = load_checkpoint(paths.model(settings.variant))
    x_val, y_val = load_merged(paths.DATASET).part("val")
    calib, before, after = calibrate(model, variant, x_val, y_val, settings.ece_bins)
    totals = json.loads(paths.DATA_TOTALS.read_text()) if paths.DATA_TOTALS.is_file() else None
    card = model_card(variant, test_metrics(settings.variant), calib, params.labels.map, totals)
    labels = np.asarray(y_val)

    def draw(target: Path) -> None:
        calibration.reliability_diagram(before, after, labels, calib.temperature, target)

    write_release(paths.RELEASE, model, variant, calib.temperature, card, draw)
    write_json(paths.RELEASE_METRICS, {"variant": settings.variant, **asdict(calib)})
    print(
        f"release: {settings.variant} -> {paths.RELEASE}; temperature {calib.temperature:.3f}, "
        f"val ECE {calib.ece_before:.4f} -> {calib.ece_after:.4f}"
    )


if __name__ == "__main__":
    cli.run(main)
