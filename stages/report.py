"""report: every variant's metrics, curves and confusions -> metrics/report.md and report.json.

Reads params.yaml (variants, train.seeds), metrics/data.json, and for each variant (default:
every variant in params.yaml, in order; the first is the one the others are compared with)
metrics/test/<variant>.json, metrics/tables/<variant>.json, every run's predictions in
metrics/runs/<variant>/, plots/<variant>/confusion.csv and the first seed's dvclive/ curves.
"""

from pathlib import Path

from expressions.analysis.report import write_report
from expressions.config import load_params
from expressions.core import cli, paths


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variants", nargs="*", help="variants to report, in table order")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root to read")
    parser.add_argument("--out", type=Path, default=paths.REPORT_MD.parent, help="report folder")
    args = parser.parse_args(argv)
    params = load_params(args.root / paths.PARAMS)
    variants = args.variants or list(params.variants)
    md, js = args.out / paths.REPORT_MD.name, args.out / paths.REPORT_JSON.name
    write_report(args.root, variants, md, js, params.seeds)
    print(f"report: wrote {md} and {js}")


if __name__ == "__main__":
    cli.run(main)
