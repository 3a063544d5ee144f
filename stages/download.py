"""download@<dataset>: one dataset's raw files, as it ships, -> data/raw/<dataset>/.

Reads params.yaml (data.source, data.local.<dataset>, data.kaggle.<dataset>, data.synthetic).
Writes data/raw/<dataset>/ and data/raw/<dataset>.source.json (kept in git: where the files came
from, their size and sha256), so a later run can tell whether the upstream data changed.
"""

import shutil
from pathlib import Path

from expressions import cli, paths
from expressions.atomic import atomic_path, write_json
from expressions.config import load_params
from expressions.data.fetch import fetch_kaggle, fetch_local
from expressions.data.synthetic import write_synthetic


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("dataset", help="a dataset named in params.yaml data.datasets")
    name = parser.parse_args(argv).dataset
    params = load_params()
    layout = params.dataset(name)
    source, where = params.data.raw_source(name)
    dest = paths.RAW / name
    if dest.exists():  # DVC removes outputs before a run; a leftover is ours to replace
        shutil.rmtree(dest)
    if source == "local":
        record = fetch_local(Path(where).expanduser(), dest)
    elif source == "kaggle":
        print(f"{name}: downloading {where} from Kaggle")
        record = fetch_kaggle(where, dest)
    else:
        synthetic = params.data.synthetic
        with atomic_path(dest) as tmp:
            tmp.mkdir()
            counts = write_synthetic(layout, tmp, synthetic.scale, synthetic.seed)
        record = {
            "source": "synthetic",
            "scale": synthetic.scale,
            "seed": synthetic.seed,
            "images": sum(counts.values()),
        }
    write_json(paths.source_record(name), {"dataset": name, "layout": layout, **record})
    print(f"{name}: raw files in {dest} ({record['source']})")


if __name__ == "__main__":
    cli.run(main)
