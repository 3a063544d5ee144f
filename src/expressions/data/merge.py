"""Merge the cleaned datasets into the study's classes: relabel, deduplicate, split.

Deduplication runs before splitting and across datasets, so one picture can never sit in both
train and test (the public datasets share images). Every decoded image ends up kept, unmapped or
duplicate, and every kept one in exactly one split: the report's counts add up by construction
and the tests check that they do.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from expressions.data.dataset import MANIFEST_COLUMNS, SPLITS, Merged


@dataclass(frozen=True)
class Part:
    """One cleaned dataset: images and their index (file, label, split; split "" when none)."""

    name: str
    images: np.ndarray
    index: pd.DataFrame
    clean_report: dict


@dataclass(frozen=True)
class MergeResult:
    merged: Merged
    manifest: pd.DataFrame
    totals: dict
    details: dict


def merge_parts(
    parts: list[Part],
    classes: tuple[str, ...],
    label_map: dict[str, dict[str, str]],
    seed: int,
    test_share: float,
    val_share: float,
) -> MergeResult:
    """Relabel with `label_map` (case-insensitive), drop duplicates, and assign splits."""
    rows = pd.concat([_rows(p, label_map.get(p.name) or {}) for p in parts], ignore_index=True)
    images = np.concatenate([p.images for p in parts]) if parts else np.zeros((0, 1, 1), np.uint8)
    rows["status"] = np.where(rows["class"] == "", "unmapped", "kept")
    _mark_duplicates(rows, images)
    kept = rows[rows["status"] == "kept"].copy()
    for position, part in enumerate(parts):
        mine = kept["dataset"] == part.name
        rng = np.random.default_rng([seed, zlib.crc32(part.name.encode()), position])
        kept.loc[mine, "split"] = _assign_splits(kept[mine], test_share, val_share, rng)
    manifest = kept[MANIFEST_COLUMNS].reset_index(drop=True)
    merged = Merged(
        x=images[kept.index.to_numpy()],
        y=manifest["class"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64),
        split=manifest["split"].map({s: i for i, s in enumerate(SPLITS)}).to_numpy(np.uint8),
        classes=classes,
    )
    rows.loc[kept.index, "split"] = kept["split"]
    return MergeResult(merged, manifest, _totals(rows, parts, classes), _details(rows, parts))


def _rows(part: Part, mapping: dict[str, str]) -> pd.DataFrame:
    lower = {k.lower(): v for k, v in mapping.items()}
    rows = part.index.copy()
    rows["dataset"] = part.name
    rows["class"] = rows["label"].map(lambda label: lower.get(str(label).lower(), ""))
    split = rows["split"].astype(str).str.lower()
    rows["split"] = split.where(split.isin(SPLITS), "")
    return rows


def _mark_duplicates(rows: pd.DataFrame, images: np.ndarray) -> None:
    """Keep the first copy of each identical cleaned image; say which file each copy repeats."""
    rows["hash"] = [hashlib.sha1(image.tobytes()).hexdigest() for image in images]
    rows["duplicate_of"] = ""
    candidates = rows[rows["status"] == "kept"]
    first = candidates.drop_duplicates("hash").set_index("hash")
    repeats = candidates.index[candidates.duplicated("hash")]
    for i in repeats:
        original = first.loc[rows.at[i, "hash"]]
        same = original["dataset"] == rows.at[i, "dataset"]
        rows.at[i, "status"] = "duplicate within dataset" if same else "duplicate across datasets"
        rows.at[i, "duplicate_of"] = f"{original['dataset']}/{original['file']}"


def _assign_splits(
    rows: pd.DataFrame, test_share: float, val_share: float, rng: np.random.Generator
) -> pd.Series:
    """Keep a dataset's own split; make a stratified test split where it ships none; carve val."""
    split = rows["split"].copy()
    unsplit = split == ""
    split[unsplit] = "train"
    split.loc[_stratified_pick(rows["class"][unsplit], test_share, rng)] = "test"
    if not (split == "val").any():
        split.loc[_stratified_pick(rows["class"][split == "train"], val_share, rng)] = "val"
    return split


def _stratified_pick(labels: pd.Series, share: float, rng: np.random.Generator) -> list:
    """Index labels of `share` of each class, drawn at random; classes of one image stay whole.

    Written out rather than sklearn's train_test_split, which refuses classes of one member.
    """
    picked = []
    for cls in sorted(labels.unique()):
        members = labels.index[labels == cls].to_numpy()
        n = round(share * len(members)) if len(members) > 1 else 0
        picked.extend(rng.permutation(members)[:n].tolist())
    return picked


def _counts(rows: pd.DataFrame, by: str) -> dict[str, dict[str, int]]:
    table = pd.crosstab(rows[by], rows["split"]).reindex(columns=list(SPLITS), fill_value=0)
    table["total"] = table.sum(axis=1)
    return {str(k): {c: int(v) for c, v in r.items()} for k, r in table.iterrows()}


def _dataset_totals(part: Part, rows: pd.DataFrame) -> dict[str, int]:
    mine = rows[rows["dataset"] == part.name]
    duplicates = mine["status"].str.startswith("duplicate")
    return {
        "files": part.clean_report["files"],
        "skipped": part.clean_report["skipped"],
        "decoded": len(mine),
        "unmapped": int((mine["status"] == "unmapped").sum()),
        "duplicates": int(duplicates.sum()),
        "kept": int((mine["status"] == "kept").sum()),
    }


def _totals(rows: pd.DataFrame, parts: list[Part], classes: tuple[str, ...]) -> dict:
    """The small summary `dvc metrics show` lists: totals, per dataset, per class and split."""
    datasets = {p.name: _dataset_totals(p, rows) for p in parts}
    kept = rows[rows["status"] == "kept"]
    total = {key: sum(d[key] for d in datasets.values()) for key in next(iter(datasets.values()))}
    total.update({s: int((kept["split"] == s).sum()) for s in SPLITS})
    per_class = _counts(kept, "class")
    zero = dict.fromkeys([*SPLITS, "total"], 0)
    return {
        "total": total,
        "datasets": datasets,
        "classes": {c: per_class.get(c, zero) for c in classes},
    }


def _details(rows: pd.DataFrame, parts: list[Part]) -> dict:
    """Per dataset and original label: what happened to every file, and the duplicate pairs."""
    out = {}
    for part in parts:
        mine = rows[rows["dataset"] == part.name]
        labels = {}
        for label, info in part.clean_report["labels"].items():
            of_label = mine[mine["label"] == label]
            status = of_label["status"].value_counts().to_dict()
            kept = of_label[of_label["status"] == "kept"]
            labels[label] = {
                "found": info["found"],
                "unreadable": info["found"] - info["decoded"],
                "class": next(iter(of_label["class"]), ""),
                **{k: int(v) for k, v in sorted(status.items())},
                **{s: int((kept["split"] == s).sum()) for s in SPLITS},
            }
        dups = mine[mine["duplicate_of"] != ""]
        out[part.name] = {
            "skipped_by_reason": part.clean_report["skipped_by_reason"],
            "labels": labels,
            "duplicates": dups[["file", "duplicate_of"]].to_dict("records"),
        }
    return out
