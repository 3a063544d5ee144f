"""download@<dataset>: one dataset's raw files, as it ships, -> data/raw/<dataset>/.

Reads data/raw/<dataset>.input.json (written by locate@<dataset>: the source, the Kaggle slug
or local path, the synthetic settings). Writes data/raw/<dataset>/ and
data/raw/<dataset>.source.json (where the files came from, their size and sha256).
"""

import json
import shutil
from pathlib import Path

from expressions import cli, paths
from expressions.atomic import atomic_path, write_json
from expressions.data.fetch import fetch_kaggle, fetch_local
from expressions.data.synthetic import write_synthetic
from expressions.errors import FetchError


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("dataset", help="a dataset named in params.yaml data.datasets")
    name = parser.parse_args(argv).dataset
    note_path = paths.input_note(name)
    if not note_path.exists():
        raise FetchError(f"{note_path} not found; run `dvc repro locate@{name}` first")
    note = json.loads(note_path.read_text())
    dest = paths.RAW / name
    if dest.exists():  # DVC removes outputs before a run; a leftover is ours to replace
        shutil.rmtree(dest)
    if note["source"] == "local":
        record = fetch_local(Path(note["path"]), dest)
    elif note["source"] == "kaggle":
        print(f"{name}: downloading {note['slug']} from Kaggle")
        record = fetch_kaggle(note["slug"], dest)
    else:
        synthetic = note["synthetic"]
        with atomic_path(dest) as tmp:
            tmp.mkdir()
            counts = write_synthetic(note["layout"], tmp, synthetic["scale"], synthetic["seed"])
        record = {"source": "synthetic", **synthetic, "images": sum(counts.values())}
    write_json(paths.source_record(name), {"dataset": name, "layout": note["layout"], **record})
    print(f"{name}: raw files in {dest} ({record['source']})")


if __name__ == "__main__":
    cli.run(main)
