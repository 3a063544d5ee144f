"""What one input may cost, written once: the defaults of params `data.limits`, of the clean
stage and of `expressions serve`. Far above the real datasets (each under 1 GiB, images of at most
a few megapixels, compressing about 1x), so that a hostile or mistaken input is refused, not
absorbed. A module of its own so that reading params.yaml imports no decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_MEGAPIXELS = 25.0  # per image, read from its header before decoding (about 35 bytes a pixel)


@dataclass(frozen=True)
class ExtractLimits:
    """What one dataset's archive or folder may expand to."""

    extracted_gib: float = 20.0  # all files of one dataset, extracted or copied
    ratio: float = 100.0  # uncompressed / compressed, per archive member or a whole archive
