"""Make the test helpers (tests/e2e.py, tests/layouts.py) importable as plain modules."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
