"""report: every variant's metrics, curves and confusions -> metrics/report.md and report.json.

python stages/report.py [variant ...]      (default: every variant in params.yaml, in order)
"""

import argparse
from pathlib import Path

from expressions import cli
from expressions.analysis.report import write_report
from expressions.config import load_params


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="report", description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help="variants to report, in table order")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root to read")
    parser.add_argument("--out", type=Path, default=Path("metrics"), help="folder for the report")
    args = parser.parse_args(argv)
    variants = args.variants or list(load_params(args.root / "params.yaml").variants)
    write_report(args.root, variants, args.out / "report.md", args.out / "report.json")
    print(f"report: wrote {args.out / 'report.md'} and {args.out / 'report.json'}")


if __name__ == "__main__":
    cli.run(main)
