"""Which split each kept image goes to: a dataset's own split where it ships one, a stratified
seeded one where it does not, and a validation share carved from train.

With a group pattern (params.yaml split.group.<dataset>: a regex over the file name naming the
subject or clip, e.g. `^(S\\d+_\\d+)_` for CK+'s `S010_004_00000017.png`), every image of a group
lands in the same split, so consecutive frames of one clip never sit on both sides.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def groups_of(files: pd.Series, pattern: str | None) -> pd.Series | None:
    """The group of each file: the pattern's first group (or whole match), else the file itself."""
    if not pattern:
        return None
    regex = re.compile(pattern)

    def group(file: str) -> str:
        match = regex.search(file)
        if match is None:
            return file
        return match.group(1) if regex.groups else match.group(0)

    return files.astype(str).map(group)


def assign_splits(
    rows: pd.DataFrame,
    test_share: float,
    val_share: float,
    rng: np.random.Generator,
    groups: pd.Series | None = None,
) -> pd.Series:
    """Keep a dataset's own split; make a stratified test split where it ships none; carve val."""
    split = rows["split"].copy()
    unsplit = split == ""
    split[unsplit] = "train"
    split.loc[_pick(rows["class"][unsplit], test_share, rng, groups)] = "test"
    if not (split == "val").any():
        split.loc[_pick(rows["class"][split == "train"], val_share, rng, groups)] = "val"
    return split


def _pick(
    labels: pd.Series, share: float, rng: np.random.Generator, groups: pd.Series | None
) -> list:
    """Index labels of `share` of each class, drawn at random; classes of one image stay whole.

    Written out rather than sklearn's train_test_split, which refuses classes of one member.
    With groups, whole groups are drawn (each counted under its most common class) until the
    class's share is reached.
    """
    if groups is None:
        picked = []
        for cls in sorted(labels.unique()):
            members = labels.index[labels == cls].to_numpy()
            n = round(share * len(members)) if len(members) > 1 else 0
            picked.extend(rng.permutation(members)[:n].tolist())
        return picked
    mine = groups.loc[labels.index]
    owner = labels.groupby(mine).agg(lambda s: s.value_counts().index[0])
    picked = []
    for cls in sorted(owner.unique()):
        names = owner.index[owner == cls].to_numpy()
        members = mine[mine.isin(names)]
        want = round(share * len(members)) if len(names) > 1 else 0
        taken = 0
        for name in rng.permutation(names):
            if taken >= want:
                break
            rows = members.index[members == name]
            picked.extend(rows.tolist())
            taken += len(rows)
    return picked
