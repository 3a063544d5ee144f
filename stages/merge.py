"""merge: data/clean/* -> data/merged/ (dataset.npz + manifest.csv) and the data counts."""

import json
from pathlib import Path

from expressions import cli
from expressions.atomic import atomic_path, write_json
from expressions.config import load_params
from expressions.data.cleaning import load_clean
from expressions.data.dataset import SPLITS, save_merged
from expressions.data.merge import Part, merge_parts


def main(argv: list[str]) -> None:
    params = load_params()
    parts = []
    for name in params.data.datasets:
        images, index = load_clean(Path("data/clean") / name)
        report = json.loads((Path("metrics/clean") / f"{name}.json").read_text())
        parts.append(Part(name, images, index, report))
    result = merge_parts(
        parts,
        params.labels.classes,
        params.labels.map,
        params.split.seed,
        params.split.test,
        params.split.val,
    )
    with atomic_path("data/merged") as tmp:
        tmp.mkdir()
        save_merged(tmp / "dataset.npz", result.merged)
        result.manifest.to_csv(tmp / "manifest.csv", index=False)
    write_json("metrics/data.json", result.totals)
    write_json("metrics/data_details.json", result.details)
    print(f"{'class':<10}" + "".join(f"{s:>8}" for s in (*SPLITS, "total")))
    for cls, counts in result.totals["classes"].items():
        print(f"{cls:<10}" + "".join(f"{counts[s]:>8}" for s in (*SPLITS, "total")))
    total = result.totals["total"]
    print(
        f"{total['files']} files: {total['skipped']} skipped, {total['unmapped']} unmapped, "
        f"{total['duplicates']} duplicates, {total['kept']} kept"
    )


if __name__ == "__main__":
    cli.run(main)
