"""visualize: data/merged/ -> plots/data/ (class counts, intensities, sample faces, plot data).

Reads data/merged/dataset.npz and manifest.csv; writes plots/data/{class_counts.png,
intensity.png, samples.png, counts.csv, sources.csv}.
"""

from pathlib import Path

from expressions.analysis.data_figures import read_manifest, visualize
from expressions.core import cli, paths
from expressions.core.errors import AnalysisError
from expressions.data.dataset import load_merged


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--data",
        type=Path,
        default=paths.MERGED,
        help=f"merged data folder (default {paths.MERGED})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=paths.DATA_PLOTS,
        help=f"figures folder (default {paths.DATA_PLOTS})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample-image choice")
    args = parser.parse_args(argv)
    npz = args.data / paths.DATASET.name
    if not npz.exists():
        raise AnalysisError(f"{npz} not found; run `dvc repro merge` first")
    merged = load_merged(npz)
    manifest = read_manifest(args.data / paths.MANIFEST.name, merged)
    written = visualize(merged, manifest, args.out, seed=args.seed)
    print(f"visualize: wrote {len(written)} files to {args.out}")


if __name__ == "__main__":
    cli.run(main)
