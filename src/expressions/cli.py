"""How every stage script ends: a result, or one sentence and a non-zero exit, never a traceback.

Set EXPRESSIONS_DEBUG=1 to get the traceback back when the sentence is not enough.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def run(main: Callable[[list[str]], None]) -> None:
    """Call `main(argv)`; user-facing errors become `error: <sentence>` on stderr and exit 1."""
    from expressions.fetch import FetchError  # the errors a user can cause and fix

    try:
        main(sys.argv[1:])
    except (ValueError, FileNotFoundError, FetchError) as err:
        if os.environ.get("EXPRESSIONS_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(
            "interrupted; outputs go to temporary names, so nothing half-written was kept",
            file=sys.stderr,
        )
        sys.exit(130)
