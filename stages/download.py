"""download@<dataset>: one dataset's raw files, as it ships, -> data/raw/<dataset>/.

Reads data/raw/<dataset>.input.json (written by locate@<dataset>: the source, the Kaggle slug
or local path, the synthetic settings, the extraction limits of data.limits). Writes
data/raw/<dataset>/ and data/raw/<dataset>.source.json (where the files came from, their size
and sha256, and any file renamed because its name was not UTF-8).
"""

import json
import shutil
from pathlib import Path

from expressions.core import cli, paths
from expressions.core.atomic import atomic_path, remove_stale, write_json
from expressions.core.errors import FetchError
from expressions.data.fetch import fetch_kaggle, fetch_local
from expressions.data.limits import ExtractLimits
from expressions.data.synthetic import write_synthetic


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
    for target in (dest, paths.source_record(name)):  # what a killed run left behind
        remove_stale(target)
    limits = ExtractLimits(**note.get("limits", {}))
    if note["source"] == "local":
        record = fetch_local(Path(note["path"]), dest, limits)
    elif note["source"] == "kaggle":
        print(f"{name}: downloading {note['slug']} from Kaggle")
        record = fetch_kaggle(note["slug"], dest, limits)
    else:
        synthetic = note["synthetic"]
        with atomic_path(dest) as tmp:
            tmp.mkdir()
            counts = write_synthetic(note["layout"], tmp, synthetic["scale"], synthetic["seed"])
        record = {"source": "synthetic", **synthetic, "images": sum(counts.values())}
    write_json(paths.source_record(name), {"dataset": name, "layout": note["layout"], **record})
    print(f"{name}: raw files in {dest} ({record['source']})")
    if record.get("renamed"):
        print(
            f"{name}: {len(record['renamed'])} file names were not UTF-8 or held control "
            f"characters and were renamed; {paths.source_record(name)} lists them"
        )


if __name__ == "__main__":
    cli.run(main)
