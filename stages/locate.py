"""locate@<dataset>: params.yaml (+ a local dataset's files) -> data/raw/<dataset>.input.json.

Runs on every `dvc repro` (always_changed): it writes where the dataset comes from (source,
slug or path, synthetic settings, data.limits' extraction limits for a download) and, for a
local folder or archive, a fingerprint of its files.
download@<dataset> depends on that note instead of on params, so it re-runs exactly when this
dataset's source or files change.
"""

from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import write_json
from expressions.data.locate import locate


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("dataset", help="a dataset named in params.yaml data.datasets")
    name = parser.parse_args(argv).dataset
    params = load_params()
    source, where = params.data.raw_source(name)
    synthetic = {"scale": params.data.synthetic.scale, "seed": params.data.synthetic.seed}
    limits = params.data.limits
    extract = {"extracted_gib": limits.extracted_gib, "ratio": limits.ratio}
    note = locate(name, params.dataset(name), source, where, synthetic, extract)
    write_json(paths.input_note(name), note)
    print(f"{name}: {source} {note.get('path') or note.get('slug') or ''}".rstrip())


if __name__ == "__main__":
    cli.run(main)
