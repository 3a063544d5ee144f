"""clean@<dataset>: data/raw/<dataset>/ -> data/clean/<dataset>/, grayscale and resized.

Reads params.yaml (data.image_size, data.min_side, data.workers, data.limits.megapixels,
data.datasets.<dataset>).
Writes data/clean/<dataset>/ and metrics/clean/<dataset>.json (every skipped file and why).
"""

from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import atomic_path, remove_stale, write_json
from expressions.data.cleaning import clean_dataset, save_clean


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("dataset", help="a dataset named in params.yaml data.datasets")
    name = parser.parse_args(argv).dataset
    params = load_params()
    data = params.data
    result = clean_dataset(
        name,
        params.dataset(name),
        paths.RAW / name,
        data.image_size,
        data.min_side,
        data.workers,
        megapixels=data.limits.megapixels,
    )
    remove_stale(paths.CLEAN / name)  # a killed earlier run's temporary
    with atomic_path(paths.CLEAN / name) as tmp:
        save_clean(tmp, result)
    write_json(paths.CLEAN_REPORTS / f"{name}.json", result.report)
    report = result.report
    print(
        f"{name}: {report['files']} files, {report['decoded']} images cleaned, "
        f"{report['skipped']} skipped {report['skipped_by_reason'] or ''}".rstrip()
    )


if __name__ == "__main__":
    cli.run(main)
