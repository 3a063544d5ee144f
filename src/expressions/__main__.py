"""`expressions <command>` (the console script) and `python -m expressions <command>`."""

from __future__ import annotations

import sys

from expressions.core import cli
from expressions.serving.commands import main as run_command


def main(argv: list[str] | None = None) -> None:
    """Entry point; argv defaults to the command line. Errors a user can fix: one sentence."""
    if argv is None:
        cli.run(run_command)
    else:
        saved = sys.argv
        sys.argv = ["expressions", *argv]
        try:
            cli.run(run_command)
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main()
