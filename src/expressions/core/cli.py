"""How every stage script and command ends: a result, or one sentence and exit 1.

Only a UserError (errors.py) becomes a sentence: anything else is a bug in the project and keeps
its traceback. Set EXPRESSIONS_DEBUG=1 to get the traceback of a UserError too.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from expressions.core.errors import UserError

# `dvc exp run -S ...` writes its values into params.yaml before the first stage runs, and keeps
# them when a stage fails (a second -S would stack on the bad value): the way back, as the README
# gives it (tested). `git clean` drops the outputs of runs the last commit has no stage for (an
# experiment's extra seeds), which evaluate@ and report would otherwise read with their folders.
WAY_BACK = (
    "note: params.yaml keeps this experiment's values; back to the last commit: "
    "git checkout HEAD -- params.yaml dvc.lock && git clean -fdxq dvclive metrics && dvc repro"
)


def in_workspace_experiment() -> bool:
    """Under `dvc exp run` in the user's own workspace (a queued one runs in a copy, and DVC
    points DVC_ROOT at the workspace it leaves untouched)."""
    root = os.environ.get("DVC_ROOT")
    return bool(os.environ.get("DVC_EXP_BASELINE_REV") and root) and (
        Path(root).resolve() == Path.cwd().resolve()
    )


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A stage's command line; `--help` prints the script's docstring: what it reads and writes."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def run_parser(doc: str | None) -> argparse.ArgumentParser:
    """A stage that works on one run, named the one way every stage names it: `<variant>
    --seed N` (the run train@<variant>-<N> made)."""
    made = parser(doc)
    made.add_argument("variant", help="a variant named in params.yaml variants")
    made.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    return made


def run_arguments(doc: str | None, argv: list[str]) -> tuple[str, int]:
    """(variant, seed) of a stage that works on one run."""
    args = run_parser(doc).parse_args(argv)
    return args.variant, args.seed


def student_argument(doc: str | None, argv: list[str]) -> str:
    """The student of a distillation stage: `<student>`, a name under params.yaml distill."""
    made = parser(doc)
    made.add_argument("student", help="a student named in params.yaml distill")
    return made.parse_args(argv).student


def run(main: Callable[[list[str]], None]) -> None:
    """Call `main(argv)`; a UserError becomes `error: <sentence>` on stderr and exit 1."""
    try:
        main(sys.argv[1:])
    except UserError as err:
        if os.environ.get("EXPRESSIONS_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        if in_workspace_experiment():
            print(WAY_BACK, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(
            "interrupted; outputs go to temporary names, so nothing half-written was kept",
            file=sys.stderr,
        )
        sys.exit(130)
