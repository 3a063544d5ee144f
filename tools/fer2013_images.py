"""FER2013 as the Kaggle challenge ships it (fer2013.csv) -> the folder layout the pipeline reads.

    python tools/fer2013_images.py fer2013.csv DIR      # writes DIR/fer2013/<split>/<label>/

The challenge's CSV holds one face per row: `emotion` (0-6), `pixels` (2,304 gray values of a
48x48 face) and `Usage` (Training, PublicTest, PrivateTest). Each row becomes a lossless PNG in
`fer2013/{train,val,test}/{angry,disgust,fear,happy,sad,surprise,neutral}/<Usage>_<row>.png`,
the layout of README's "Real data" (the `folder` source; tools/real.py takes the folder or
a zip of it).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # emotion 0..6
SPLITS = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
SIDE = 48


def convert(csv_path: Path, out: Path) -> dict[str, int]:
    """Write every row's face; return the count per split. A malformed row is one sentence."""
    counts = dict.fromkeys(SPLITS.values(), 0)
    with open(csv_path, newline="") as fh:
        for row_number, row in enumerate(csv.DictReader(fh), start=2):
            try:
                label, split = LABELS[int(row["emotion"])], SPLITS[row["Usage"]]
                face = np.array(row["pixels"].split(), dtype=np.uint8).reshape(SIDE, SIDE)
            except (KeyError, ValueError, IndexError) as err:
                raise SystemExit(
                    f"error: {csv_path} line {row_number} is not a FER2013 row ({err})"
                ) from None
            folder = out / "fer2013" / split / label
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(face).save(folder / f"{row['Usage']}_{row_number - 2}.png")
            counts[split] += 1
    return counts


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="fer2013.csv from the Kaggle challenge")
    parser.add_argument("out", type=Path, help="folder to write fer2013/<split>/<label>/ into")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        raise SystemExit(f"error: {args.csv} not found (fer2013.csv from the Kaggle challenge)")
    counts = convert(args.csv, args.out)
    print(", ".join(f"{split} {n:,}" for split, n in counts.items()), f"faces in {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
