"""clean@<dataset>: data/raw/<dataset>/ -> data/clean/<dataset>/, grayscale and resized.

Reads params.yaml (data.image_size, data.min_side, data.workers, data.datasets.<dataset>).
Writes data/clean/<dataset>/ and metrics/clean/<dataset>.json (every skipped file and why).
"""

from expressions import cli, paths
from expressions.atomic import atomic_path, write_json
from expressions.config import load_params
from expressions.data.cleaning import clean_dataset, save_clean


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("dataset", help="a dataset named in params.yaml data.datasets")
    name = parser.parse_args(argv).dataset
    params = load_params()
    data = params.data
    result = clean_dataset(
        name, params.dataset(name), paths.RAW / name, data.image_size, data.min_side, data.workers
    )
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
