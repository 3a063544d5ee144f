"""Make the shared fixtures and builders in tests/helpers/ importable by every test module."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
