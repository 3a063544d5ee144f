"""The on-disk layouts a dataset can have and the image files each holds: config validates names
against them, sources/ reads them, predict takes the same image files.

A module of its own so that reading params.yaml does not import every parser (and so no stage
depends on the parsers unless it runs them).
"""

LAYOUTS = ("rafdb", "oahega", "fed2023", "folder")

# What the published datasets ship (docs/DATASETS.md): any other file inside them is litter, and
# is reported as such. A user's own `folder` dataset and `expressions predict` take every image
# file that decoding (Pillow) reads.
LAYOUT_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
IMAGE_SUFFIXES = LAYOUT_SUFFIXES | {".bmp", ".webp", ".tif", ".tiff"}
