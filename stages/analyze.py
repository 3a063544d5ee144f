"""analyze@<variant>: model + test predictions -> confusion matrix, errors, feature maps.

Reads models/<variant>/model.pt, plots/<variant>/predictions.csv and data/merged/dataset.npz;
writes plots/<variant>/{confusion.png, confused_pairs.csv, errors.png, feature_maps.png}.
"""

from pathlib import Path

from expressions.analysis.variant_figures import analyze, read_predictions
from expressions.core import cli, paths
from expressions.core.errors import AnalysisError
from expressions.data.dataset import load_merged


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variant", help="a variant named in params.yaml variants")
    parser.add_argument(
        "--seed", type=int, default=0, help="picks the feature-map images (default 0)"
    )
    parser.add_argument(
        "--data", type=Path, default=paths.DATASET, help=f"merged dataset (default {paths.DATASET})"
    )
    parser.add_argument(
        "--models",
        type=Path,
        default=paths.MODELS,
        help=f"folder of the variants' model folders (default {paths.MODELS})",
    )
    parser.add_argument(
        "--plots",
        type=Path,
        default=paths.PLOTS,
        help=f"folder of the variants' plot folders, read and written (default {paths.PLOTS})",
    )
    args = parser.parse_args(argv)
    weights = args.models / args.variant / paths.model(args.variant).name
    out = args.plots / args.variant
    for path, stage in ((args.data, "merge"), (weights, f"train@{args.variant}")):
        if not path.exists():
            raise AnalysisError(f"{path} not found; run `dvc repro {stage}` first")
    merged = load_merged(args.data)
    predictions = read_predictions(out / "predictions.csv", merged)
    from expressions.training.model_file import (
        load_model,  # imports torch: once the inputs look right
    )

    model = load_model(weights, device="cpu").model
    written = analyze(args.variant, model, merged, predictions, out, seed=args.seed)
    print(f"analyze: wrote {len(written)} files to {out}")


if __name__ == "__main__":
    cli.run(main)
