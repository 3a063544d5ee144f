"""The on-disk layouts a dataset can have: config validates names against them, sources/ reads them.

A module of its own so that reading params.yaml does not import every parser (and so no stage
depends on the parsers unless it runs them).
"""

LAYOUTS = ("rafdb", "oahega", "fed2023", "folder")
