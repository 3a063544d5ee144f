"""Near-duplicate images across splits: the same face resized, re-encoded or lightly edited.

Exact copies are removed before splitting (merge.py). Real datasets also carry near copies
(FER-style sets hold resized and re-encoded versions of one photo), which sit on both sides of a
split and flatter the test score. A 64-bit perceptual hash (pHash: the signs of the low-frequency
DCT coefficients of a 32x32 thumbnail, against their median) of each cleaned image is compared
across splits; an evaluation image within `max_distance` bits of a training image is dropped
from evaluation and reported with the training file it repeats.

Measured on the default synthetic faces: distinct faces are at least 4 bits apart, while a face
resized to 37 px and JPEG-encoded at quality 60 stays within 2 bits in 94% of cases; hence the
default of 2 (see params.yaml split.near_duplicates).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.fft import dctn

CHUNK = 256  # evaluation images compared at once: CHUNK x train uint64 XORs in memory


def phash(images: np.ndarray) -> np.ndarray:
    """uint64 perceptual hash of each uint8 image [N, S, S]."""
    if len(images) == 0:
        return np.zeros(0, np.uint64)
    thumbs = np.stack(
        [
            np.asarray(Image.fromarray(im).resize((32, 32), Image.BILINEAR), np.float64)
            for im in images
        ]
    )
    low = dctn(thumbs, axes=(1, 2), norm="ortho")[:, :8, :8].reshape(len(images), 64)
    bits = low > np.median(low[:, 1:], axis=1, keepdims=True)  # the DC term would skew the median
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def nearest(queries: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query hash, the Hamming distance to the closest pool hash and its position."""
    if len(pool) == 0:
        return np.full(len(queries), 65), np.zeros(len(queries), np.int64)
    distance, position = [], []
    for start in range(0, len(queries), CHUNK):
        bits = np.bitwise_count(queries[start : start + CHUNK, None] ^ pool[None, :])
        position.append(bits.argmin(axis=1))
        distance.append(bits.min(axis=1))
    return np.concatenate(distance).astype(int), np.concatenate(position)
