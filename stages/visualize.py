"""visualize: data/merged/ -> plots/data/ (class counts, intensities, sample faces, plot data).

python stages/visualize.py [--data data/merged] [--out plots/data] [--seed 0]
"""

import argparse
from pathlib import Path

from expressions import cli
from expressions.analysis.data_figures import read_manifest, visualize
from expressions.data.dataset import load_merged
from expressions.errors import AnalysisError


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="visualize", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/merged"))
    parser.add_argument("--out", type=Path, default=Path("plots/data"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample-image choice")
    args = parser.parse_args(argv)
    npz = args.data / "dataset.npz"
    if not npz.exists():
        raise AnalysisError(f"{npz} not found; run `dvc repro merge` first")
    merged = load_merged(npz)
    manifest = read_manifest(args.data / "manifest.csv", merged)
    written = visualize(merged, manifest, args.out, seed=args.seed)
    print(f"visualize: wrote {len(written)} files to {args.out}")


if __name__ == "__main__":
    cli.run(main)
