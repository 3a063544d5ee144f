"""resolve@<variant>: params.yaml -> configs/<variant>.json, the variant's effective settings.

train@<variant>-<seed> depends on this small file instead of on params, so `dvc exp run -S
model.kernel=4` retrains only the variants whose effective settings change (variant1 already
uses kernel 4 and is skipped). The seeds are left out: each run gets its own on its command line,
so adding a seed to train.seeds trains the new runs only.
"""

from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import write_text


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variant", help="a variant named in params.yaml variants")
    name = parser.parse_args(argv).variant
    write_text(paths.config(name), load_params().variant(name).to_json())


if __name__ == "__main__":
    cli.run(main)
