"""merge: data/clean/*/ -> data/merged/ (dataset.npz + manifest.csv) and the data counts.

Reads params.yaml (data.datasets and where each comes from, labels, split), data/clean/<dataset>/ and
metrics/clean/<dataset>.json for every dataset. Writes data/merged/dataset.npz (the images as
one uint8 array, labels, splits, each dataset's origin), data/merged/manifest.csv (where each row came from),
metrics/data.json and metrics/data_details.json.
"""

import json
from dataclasses import replace

from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import atomic_path, write_json
from expressions.data.cleaning import load_clean
from expressions.data.dataset import SPLITS, save_merged
from expressions.data.merge import Part, merge_parts


def main(argv: list[str]) -> None:
    cli.parser(__doc__).parse_args(argv)
    params = load_params()
    parts = []
    for name in params.data.datasets:
        images, index = load_clean(paths.CLEAN / name)
        report = json.loads((paths.CLEAN_REPORTS / f"{name}.json").read_text())
        parts.append(Part(name, images, index, report))
    labels, split = params.labels, params.split
    result = merge_parts(
        parts,
        labels.classes,
        labels.map,
        split.seed,
        split.test,
        split.val,
        groups=split.group,
        near_duplicates=split.near_duplicates,
    )
    origins = {name: params.data.raw_source(name)[0] for name in params.data.datasets}
    with atomic_path(paths.MERGED) as tmp:
        tmp.mkdir()
        save_merged(tmp / paths.DATASET.name, replace(result.merged, origins=origins))
        result.manifest.to_csv(tmp / paths.MANIFEST.name, index=False)
    write_json(paths.DATA_TOTALS, result.totals)
    write_json(paths.DATA_DETAILS, result.details)
    print(f"{'class':<10}" + "".join(f"{s:>8}" for s in (*SPLITS, "total")))
    for cls, counts in result.totals["classes"].items():
        print(f"{cls:<10}" + "".join(f"{counts[s]:>8}" for s in (*SPLITS, "total")))
    total = result.totals["total"]
    print(
        f"{total['files']} files: {total['skipped']} skipped, {total['unmapped']} unmapped, "
        f"{total['duplicates']} duplicates ({total['near_duplicates']} near), {total['kept']} kept"
    )
    for warning in result.totals["warnings"]:
        print(f"warning: {warning}")


if __name__ == "__main__":
    cli.run(main)
