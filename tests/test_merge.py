"""Label mapping, deduplication, splitting, and counts that add up."""

import numpy as np
import pandas as pd
import pytest

from expressions.data.dataset import SPLITS, load_merged, save_merged
from expressions.data.merge import Part, merge_parts

CLASSES = ("Angry", "Happy", "Neutral")


def part(name, labels, splits, start=0, clean_skipped=0):
    """A cleaned dataset whose image i is filled with a unique value (start + i)."""
    n = len(labels)
    images = np.stack([np.full((4, 4), start + i, np.uint8) for i in range(n)])
    index = pd.DataFrame(
        {"file": [f"{name}/{i}.jpg" for i in range(n)], "label": labels, "split": splits}
    )
    report = {
        "files": n + clean_skipped,
        "skipped": clean_skipped,
        "skipped_by_reason": {},
        "labels": {
            lab: {"found": labels.count(lab), "decoded": labels.count(lab)} for lab in set(labels)
        },
    }
    return Part(name, images, index, report)


def merge(parts, seed=0, test=0.25, val=0.2):
    label_map = {
        "split_ds": {"anger": "Angry", "HAPPINESS": "Happy", "Neutral": "Neutral"},
        "flat_ds": {"Angry": "Angry", "Happy": "Happy", "Neutral": "Neutral"},
    }
    return merge_parts(parts, CLASSES, label_map, seed, test, val)


def two_datasets():
    split_labels = ["Anger", "Happiness", "Neutral", "Surprise"] * 10
    split_ds = part("split_ds", split_labels, ["train"] * 28 + ["test"] * 12, clean_skipped=3)
    flat_labels = ["Angry", "Happy", "Neutral", "Sad"] * 15
    flat_ds = part("flat_ds", flat_labels, [""] * 60, start=100)
    return split_ds, flat_ds


def test_labels_are_mapped_without_regard_to_case_and_unmapped_ones_counted():
    result = merge(list(two_datasets()))
    assert set(result.manifest["class"]) == set(CLASSES)
    assert result.totals["datasets"]["split_ds"]["unmapped"] == 10  # Surprise
    assert result.totals["datasets"]["flat_ds"]["unmapped"] == 15  # Sad
    assert result.details["split_ds"]["labels"]["Surprise"]["unmapped"] == 10


def test_counts_add_up_per_dataset_and_per_label():
    result = merge(list(two_datasets()))
    for name, counts in result.totals["datasets"].items():
        assert counts["files"] == counts["skipped"] + counts["decoded"]
        assert counts["decoded"] == counts["unmapped"] + counts["duplicates"] + counts["kept"]
        for label in result.details[name]["labels"].values():
            kept = label.get("kept", 0)
            assert label["found"] == label["unreadable"] + kept + label.get("unmapped", 0) + sum(
                v for k, v in label.items() if k.startswith("duplicate")
            )
            assert kept == sum(label[s] for s in SPLITS)
    total = result.totals["total"]
    assert total["kept"] == sum(total[s] for s in SPLITS) == len(result.manifest)
    assert sum(c["total"] for c in result.totals["classes"].values()) == total["kept"]


def test_a_dataset_keeps_its_own_split_and_gets_val_from_train():
    result = merge(list(two_datasets()))
    mine = result.manifest[result.manifest["dataset"] == "split_ds"]
    originally_test = mine["file"].map(lambda f: int(f.split("/")[1].split(".")[0]) >= 28)
    assert (mine.loc[originally_test, "split"] == "test").all()
    assert set(mine.loc[~originally_test, "split"]) == {"train", "val"}


def test_unsplit_dataset_is_split_stratified_and_deterministically():
    first, again = merge(list(two_datasets())), merge(list(two_datasets()))
    pd.testing.assert_frame_equal(first.manifest, again.manifest)
    flat = first.manifest[first.manifest["dataset"] == "flat_ds"]
    per_class = pd.crosstab(flat["class"], flat["split"])
    assert (per_class["test"] == 4).all()  # 25 % of 15 per class, rounded
    assert (per_class["val"] == 2).all()  # 20 % of the 11 left
    other = merge(list(two_datasets()), seed=1).manifest
    assert not other["split"].equals(first.manifest["split"])


def test_duplicates_are_dropped_within_and_across_datasets_before_splitting():
    split_ds, flat_ds = two_datasets()
    flat_ds.images[4] = split_ds.images[0]  # same picture in both datasets
    flat_ds.images[5] = flat_ds.images[1]  # and twice in one
    result = merge([split_ds, flat_ds])
    statuses = result.details["flat_ds"]["duplicates"]
    assert {d["file"] for d in statuses} == {"flat_ds/4.jpg", "flat_ds/5.jpg"}
    assert result.totals["datasets"]["flat_ds"]["duplicates"] == 2
    hashes = [img.tobytes() for img in result.merged.x]
    assert len(hashes) == len(set(hashes))  # no picture twice, so never in two splits


def test_merged_arrays_match_the_manifest_and_round_trip(tmp_path):
    result = merge(list(two_datasets()))
    merged = result.merged
    assert merged.x.shape == (len(result.manifest), 4, 4) and merged.x.dtype == np.uint8
    assert [CLASSES[i] for i in merged.y] == result.manifest["class"].tolist()
    assert [SPLITS[i] for i in merged.split] == result.manifest["split"].tolist()
    save_merged(tmp_path / "d.npz", merged)
    back = load_merged(tmp_path / "d.npz")
    assert back.classes == CLASSES and np.array_equal(back.x, merged.x)
    x_test, y_test = back.part("test")
    assert len(x_test) == result.totals["total"]["test"] == len(y_test)


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_classes_do_not_break_the_split(n):
    tiny = part("flat_ds", ["Angry"] * n + ["Happy"] * 10 + ["Neutral"] * 10, [""] * (n + 20))
    result = merge([tiny])
    assert (result.manifest["class"] == "Angry").sum() == n
