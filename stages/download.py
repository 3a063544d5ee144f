"""download@<dataset>: put one dataset's raw files, as it ships, in data/raw/<dataset>/.

Also writes data/raw/<dataset>.source.json (kept in git) saying where the files came from, so a
later run can tell whether the upstream data changed.
"""

import shutil
from pathlib import Path

from expressions import cli
from expressions.atomic import atomic_path, write_json
from expressions.config import load_params
from expressions.data.fetch import fetch_kaggle, fetch_local
from expressions.data.synthetic import write_synthetic
from expressions.paths import user_path


def main(argv: list[str]) -> None:
    (name,) = argv
    params = load_params()
    layout = params.data.datasets[name]
    source, where = params.data.raw_source(name)
    dest = Path("data/raw") / name
    if dest.exists():  # DVC removes outputs before a run; a leftover is ours to replace
        shutil.rmtree(dest)
    if source == "local":
        record = fetch_local(user_path(where), dest) | {"path": where}  # as written
    elif source == "kaggle":
        print(f"{name}: downloading {where} from Kaggle")
        record = fetch_kaggle(where, dest)
    else:
        synthetic = params.data.synthetic
        with atomic_path(dest) as tmp:
            tmp.mkdir()
            counts = write_synthetic(layout, tmp, synthetic["scale"], synthetic["seed"])
        record = {"source": "synthetic", **synthetic, "images": sum(counts.values())}
    write_json(
        Path("data/raw") / f"{name}.source.json", {"dataset": name, "layout": layout, **record}
    )
    print(f"{name}: raw files in {dest} ({record['source']})")


if __name__ == "__main__":
    cli.run(main)
