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
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from expressions.core.errors import ConfigError
from expressions.data.dataset import MANIFEST_COLUMNS, SPLITS, Merged
from expressions.data.near_duplicates import nearest, phash
from expressions.data.splits import assign_splits, groups_of


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
    groups: dict[str, str] | None = None,
    near_duplicates: int = -1,
) -> MergeResult:
    """Relabel with `label_map` (case-insensitive), drop duplicates, and assign splits.

    `groups` maps a dataset to the regex naming its subjects or clips (kept whole in one split);
    `near_duplicates` is the largest perceptual-hash distance, in bits, at which an evaluation
    image counts as a copy of a training image and is dropped (-1: no search).
    """
    _check_map(parts, label_map)
    rows = pd.concat([_rows(p, label_map.get(p.name) or {}) for p in parts], ignore_index=True)
    images = np.concatenate([p.images for p in parts]) if parts else np.zeros((0, 1, 1), np.uint8)
    rows["status"] = np.where(rows["class"] == "", "unmapped", "kept")
    _mark_duplicates(rows, images)
    kept = rows[rows["status"] == "kept"].copy()
    for position, part in enumerate(parts):
        mine = kept["dataset"] == part.name
        rng = np.random.default_rng([seed, zlib.crc32(part.name.encode()), position])
        group = groups_of(kept.loc[mine, "file"], (groups or {}).get(part.name))
        kept.loc[mine, "split"] = assign_splits(kept[mine], test_share, val_share, rng, group)
    rows.loc[kept.index, "split"] = kept["split"]
    if near_duplicates >= 0:
        _mark_near_duplicates(rows, kept, images, near_duplicates)
        kept = kept[rows.loc[kept.index, "status"] == "kept"]
    _check_classes(kept, classes, label_map)
    manifest = kept[MANIFEST_COLUMNS].reset_index(drop=True)
    merged = Merged(
        x=images[kept.index.to_numpy()],
        y=manifest["class"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64),
        split=manifest["split"].map({s: i for i, s in enumerate(SPLITS)}).to_numpy(np.uint8),
        classes=classes,
    )
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


def _check_map(parts: list[Part], label_map: dict[str, dict[str, str]]) -> None:
    """Every label map entry names a label its dataset has: a typo would drop a class silently.
    All the wrong entries are named at once, each dataset with its labels, closest first."""
    clauses = []
    for part in parts:
        found = [str(label) for label in part.clean_report["labels"]]
        known = {label.lower() for label in found}
        wrong = [e for e in label_map.get(part.name) or {} if str(e).lower() not in known]
        if not wrong:
            continue
        closest = sorted(
            found,
            key=lambda label: -SequenceMatcher(None, str(wrong[0]).lower(), label.lower()).ratio(),
        )
        keys = [f"labels.map.{part.name}.{entry}" for entry in wrong]
        names = keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} and {keys[-1]}"
        verb = "matches" if len(keys) == 1 else "match"
        clauses.append(
            f"{names} {verb} no label of dataset {part.name}; its labels are "
            f"{', '.join(closest) or 'none'} (closest first)"
        )
    if clauses:
        raise ConfigError("; ".join(clauses))


def _check_classes(
    kept: pd.DataFrame, classes: tuple[str, ...], label_map: dict[str, dict[str, str]]
) -> None:
    """A class without images would train a dead output and drag every macro average down."""
    counts = kept["class"].value_counts()
    for cls in classes:
        if counts.get(cls, 0) == 0:
            mapped = [
                f"{d}.{k}" for d, m in label_map.items() for k, v in (m or {}).items() if v == cls
            ]
            raise ConfigError(
                f"class {cls!r} has no images after the merge: labels.map "
                f"{', '.join(mapped) or 'maps nothing to it'} kept none (all unreadable or "
                "duplicates); map a label with images to it or remove it from labels.classes"
            )


def _mark_near_duplicates(
    rows: pd.DataFrame, kept: pd.DataFrame, images: np.ndarray, max_distance: int
) -> None:
    """Drop each evaluation image whose perceptual hash is within `max_distance` of a train one."""
    train = kept.index[kept["split"] == "train"].to_numpy()
    evaluation = kept.index[kept["split"] != "train"].to_numpy()
    distance, position = nearest(phash(images[evaluation]), phash(images[train]))
    for i, j, bits in zip(evaluation, train[position], distance, strict=True):
        if bits <= max_distance:
            rows.at[i, "status"] = (
                f"duplicate (near, {bits} bits) in {rows.at[i, 'split']} of a train image: dropped"
            )
            rows.at[i, "duplicate_of"] = f"{rows.at[j, 'dataset']}/{rows.at[j, 'file']}"


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
        "near_duplicates": int(mine["status"].str.startswith("duplicate (near").sum()),
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
    classes_table = {c: per_class.get(c, zero) for c in classes}
    sources = pd.crosstab(kept["class"], kept["dataset"]).reindex(classes, fill_value=0)
    return {
        "total": total,
        "datasets": datasets,
        "classes": classes_table,
        "sources": {  # class -> dataset -> kept images: which dataset each class comes from
            str(c): {str(d): int(n) for d, n in row.items()} for c, row in sources.iterrows()
        },
        "warnings": [
            f"class {c!r} has no {s} images"
            for c, counts in classes_table.items()
            for s in SPLITS
            if counts[s] == 0
        ],
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
            "duplicates": dups[["file", "status", "duplicate_of"]].to_dict("records"),
        }
    return out
