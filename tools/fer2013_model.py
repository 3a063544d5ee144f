"""The accurate (ten-view) FER2013 model that ships with the package, rebuilt by the project's own
pipeline; tools/fer2013_fast.py distils the fast default from it.

    python tools/fer2013_model.py PATH [--recipe FILE] [--seed N] [--keep DIR] [--out DIR]
    make fer2013-model FER2013=PATH

PATH is FER2013 in the folder layout (`fer2013/{train,val,test}/<label>/*.jpg`: the challenge's
Training, PublicTest and PrivateTest), a zip or a folder. In a scratch copy of the repository
(src/expressions/config/scratch.py) the pipeline runs with FER2013's seven classes as its only dataset and
one variant, `fer2013` (the recipe in tools/recipes/fer2013_model.yaml), up to `dvc repro
release`: download, clean, merge (exact duplicates and near copies of training faces out of
val and test), train, test, evaluate, release (temperature fitted on val, model card). The
release goes to src/expressions/models/fer2013-accurate/ with its weights stored as float16 (half the
size: release/compact.py) and its card completed with the data's licence and how it was built.
On a 2-core CPU the training takes hours; --keep DIR keeps the scratch project, and a second run
with the same DIR picks up where the first stopped (DVC runs only what is missing). It trains on
one thread (runtime.threads: 1), so that the same code reproduces it bit for bit beside other
work; --seed N draws another run of the same recipe (a second member of an ensemble).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from real import CLASSES, kept_project, real_params, run  # tools/real.py, beside this

from expressions.config import read_yaml
from expressions.config.scratch import ROOT
from expressions.core import paths
from expressions.core.atomic import atomic_path
from expressions.release.card import FACTS, ModelCard, with_build_facts
from expressions.release.card_markdown import write_card
from expressions.release.compact import compact_model_file, compact_onnx

NAME = "fer2013"
RECIPE = ROOT / "tools" / "recipes" / "fer2013_model.yaml"
OUT = ROOT / "src" / "expressions" / "models" / "fer2013-accurate"  # the ten-view model
LICENCE = (
    'FER2013 (Goodfellow et al., ICML 2013 workshop "Challenges in Representation Learning", '
    'the Kaggle challenge "fer2013") is distributed for research use only. This model is derived '
    "from it and carries the same restriction: research use only; it is not for any commercial "
    "use or for any decision about a person."
)


def description(card: ModelCard) -> str:
    totals = (card.data.totals or {}).get("total", {})
    kept = f" ({totals['kept']:,} faces kept)" if "kept" in totals else ""
    return (
        "FER2013: 35,887 grayscale 48x48 faces, the challenge's own splits (train = Training, "
        "val = PublicTest, test = PrivateTest), seven classes. The merge stage removed exact "
        "duplicates and the val and test faces within 2 bits (a 64-bit perceptual hash) of a "
        f"training face{kept}, so Table 2 below is on PrivateTest less its copies of training "
        "faces: slightly harder than the published split."
    )


def machine() -> str:
    return f"{platform.machine()} CPU, {os.cpu_count()} cores, no GPU ({platform.system()})"


def package(project: Path, out: Path, command: str, minutes: float) -> ModelCard:
    """The scratch project's release as the package's model folder, compact, card completed."""
    release = project / paths.RELEASE
    card = ModelCard.from_json((release / FACTS).read_text())
    card = with_build_facts(
        card,
        name=f"expressions-{out.name}",
        description=description(card),
        licence=LICENCE,
        built=f"`{command}` (tools/fer2013_model.py): the project's own pipeline, "
        f"{minutes:.0f} minutes on a {machine()}, {date.today().isoformat()}.",
    )
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        compact_model_file(release / "model.pt", tmp / "model.pt")
        compact_onnx(release / "model.onnx", tmp / "model.onnx")
        shutil.copy2(release / "reliability.png", tmp / "reliability.png")
        write_card(tmp, card)
    return card


def model_params(data: Path, recipe: dict, seed: int) -> dict:
    """The scratch project's params.yaml: FER2013's seven classes, one variant, one seed."""
    settings = {"runtime.threads": 1, "train.seeds": [seed]}
    return real_params(data, CLASSES[7], [NAME], None, {NAME: recipe}, settings)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="FER2013 as a zip or folder (fer2013/<split>/...)")
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="the variant's overrides")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    parser.add_argument("--keep", type=Path, help="the scratch project's folder, kept (resumable)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the model goes ({OUT})")
    args = parser.parse_args(argv)
    if not args.path.exists():
        raise SystemExit(f"error: {args.path} not found (FER2013 as a zip or a folder)")
    recipe = read_yaml(args.recipe)
    params = model_params(args.path.resolve(), recipe, args.seed)
    scratch = args.keep or Path(f"{ROOT}/bench-results/fer2013-model")
    kept_project(scratch, params)
    start = time.perf_counter()
    run(scratch, ["dvc", "repro", "release"])
    minutes = (time.perf_counter() - start) / 60
    command = f"make fer2013-model FER2013={args.path}"
    card = package(scratch, args.out, command, minutes)
    test = card.test
    print(
        f"{args.out}: test accuracy {test['accuracy']:.4f} on {test['images']} PrivateTest faces; "
        f"card: {args.out / 'MODEL_CARD.md'}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
