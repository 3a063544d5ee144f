"""Where each dataset of a model came from (synthetic, kaggle or local), and what that means for
its use: a model that learnt from drawn faces only says so wherever it is used."""

from __future__ import annotations

SYNTHETIC = "synthetic"


def real_faces(origins: dict[str, str]) -> bool:
    """Whether every dataset came from real photos (kaggle or local), none drawn (synthetic)."""
    return bool(origins) and all(source != SYNTHETIC for source in origins.values())
