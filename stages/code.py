"""code: stages/*.py + src/expressions/ -> code/<script>.json, the code each stage script runs.

Each note lists the script and every package module it imports (directly or through other
modules), with the sha256 of each file. Every other stage depends on its own note instead of on
source files, so editing a module re-runs exactly the stages whose scripts run it: this stage
re-runs (in about a second) and only the notes that changed re-run their stages.
"""

import json
from pathlib import Path

from expressions.core import cli, paths
from expressions.core.atomic import atomic_path
from expressions.core.sourcefiles import code_note

STAGES = Path(__file__).resolve().parent


def main(argv: list[str]) -> None:
    cli.parser(__doc__).parse_args(argv)
    scripts = sorted(p for p in STAGES.glob("*.py") if p.name != Path(__file__).name)
    with atomic_path(paths.CODE) as tmp:
        tmp.mkdir()
        for script in scripts:
            note = {"script": f"stages/{script.name}", "files": code_note(script, STAGES.parent)}
            (tmp / f"{script.stem}.json").write_text(json.dumps(note, indent=2) + "\n")
    print(f"code: {len(scripts)} notes in {paths.CODE}/")


if __name__ == "__main__":
    cli.run(main)
