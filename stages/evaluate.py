"""evaluate@<variant>: the variant's runs (one per seed) -> its headline metrics over seeds.

Reads params.yaml (train.seeds), metrics/runs/<variant>/seed-<seed>/{test.json,
predictions.csv} of every seed. Writes metrics/test/<variant>.json (what `dvc metrics` compares:
under the variant's name, accuracy and macro F1, each the mean over seeds with its sd),
metrics/tables/<variant>.json (macro, micro, per class and per source dataset over seeds, each
run's numbers,
the bootstrap 95 % intervals) and plots/<variant>/confusion.csv (the first seed's, for DVC's
confusion plot).
"""

from pathlib import Path

from expressions.analysis.seeds import read_run, summarize
from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import write_json, write_text


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variant", help="a variant named in params.yaml variants")
    name = parser.parse_args(argv).variant
    params = load_params()
    variant = params.variant(name)
    runs = {seed: read_run(Path(), name, seed) for seed in params.seeds}
    headline, tables = summarize(
        name,
        {s: r[0] for s, r in runs.items()},
        {s: r[1] for s, r in runs.items()},
        variant.classes,
    )
    write_json(paths.test_metrics(name), headline)
    write_json(paths.tables(name), tables)
    first = runs[params.first_seed][1]
    write_text(
        paths.PLOTS / name / "confusion.csv", first[["actual", "predicted"]].to_csv(index=False)
    )
    low, high = tables["intervals"]["accuracy"]
    numbers = headline[name]
    print(
        f"{name}: accuracy {numbers['acc']:.4f} +- {numbers['acc_sd']:.4f} over "
        f"{numbers['seeds']} seed(s), 95 % interval [{low:.4f}, {high:.4f}]"
    )


if __name__ == "__main__":
    cli.run(main)
