"""clean@<dataset>: data/raw/<dataset>/ -> data/clean/<dataset>/ (grayscale, resized) + a report."""

from pathlib import Path

from expressions import cli
from expressions.atomic import atomic_path, write_json
from expressions.config import load_params
from expressions.data.cleaning import clean_dataset, save_clean


def main(argv: list[str]) -> None:
    (name,) = argv
    data = load_params().data
    result = clean_dataset(
        name,
        data.datasets[name],
        Path("data/raw") / name,
        data.image_size,
        data.min_side,
        data.workers,
    )
    with atomic_path(Path("data/clean") / name) as tmp:
        save_clean(tmp, result)
    write_json(Path("metrics/clean") / f"{name}.json", result.report)
    report = result.report
    print(
        f"{name}: {report['files']} files, {report['decoded']} images cleaned, "
        f"{report['skipped']} skipped {report['skipped_by_reason'] or ''}".rstrip()
    )


if __name__ == "__main__":
    cli.run(main)
