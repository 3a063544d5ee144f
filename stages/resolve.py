"""resolve@<variant>: params.yaml -> configs/<variant>.json, the variant's effective settings.

train@<variant> depends on this small file instead of on params, so `dvc exp run -S
model.kernel=4` retrains only the variants whose effective settings change (variant1 already
uses kernel 4 and is skipped).
"""

from expressions import cli
from expressions.atomic import write_text
from expressions.config import load_params


def main(argv: list[str]) -> None:
    (name,) = argv
    write_text(f"configs/{name}.json", load_params().variant(name).to_json())


if __name__ == "__main__":
    cli.run(main)
