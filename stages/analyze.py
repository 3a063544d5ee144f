"""analyze@<variant>: one run's model and test predictions -> confusion matrix, errors, feature maps.

Reads models/<variant>/seed-<seed>/model.pt, metrics/runs/<variant>/seed-<seed>/predictions.csv
and data/merged/dataset.npz (dvc.yaml runs it on the first of train.seeds); writes
plots/<variant>/{confusion.png, confused_pairs.csv, errors.png, feature_maps.png}.
"""

from expressions.analysis.variant_figures import analyze, read_predictions
from expressions.core import cli, paths
from expressions.core.errors import AnalysisError
from expressions.data.dataset import load_merged


def main(argv: list[str]) -> None:
    parser = cli.run_parser(__doc__)
    parser.add_argument(
        "--pick", type=int, default=0, help="the draw of the feature-map images (default 0)"
    )
    args = parser.parse_args(argv)
    name, run = args.variant, args.seed
    weights, csv = paths.model(name, run), paths.run_predictions(name, run)
    for path, stage in (
        (paths.DATASET, "merge"),
        (weights, f"train@{name}-{run}"),
        (csv, f"test@{name}-{run}"),
    ):
        if not path.exists():
            raise AnalysisError(f"{path} not found; run `dvc repro {stage}` first")
    merged = load_merged(paths.DATASET)
    predictions = read_predictions(csv, merged)
    from expressions.training.model_file import load_model  # torch: once the inputs look right

    out = paths.PLOTS / name
    model = load_model(weights, device="cpu").model
    written = analyze(name, model, merged, predictions, out, seed=args.pick)
    print(f"analyze: wrote {len(written)} files to {out}")


if __name__ == "__main__":
    cli.run(main)
