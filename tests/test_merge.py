"""Label mapping, deduplication, splitting, and counts that add up."""

import numpy as np
import pandas as pd
import pytest

from expressions.core.errors import ConfigError, DataError
from expressions.data.dataset import SPLITS, load_merged, load_sources, save_merged
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
    result.manifest.to_csv(tmp_path / "manifest.csv", index=False)
    sources = load_sources(tmp_path / "manifest.csv", len(back.y))
    assert sources.tolist() == result.manifest["dataset"].tolist()
    n = len(back.y)
    with pytest.raises(DataError, match=f"lists {n} images but the dataset holds {n - 1}"):
        load_sources(tmp_path / "manifest.csv", n - 1)
    with pytest.raises(DataError, match=r"nothing\.csv is not found; rebuild it with `dvc repro"):
        load_sources(tmp_path / "nothing.csv", n)


def test_which_dataset_each_class_comes_from_is_counted():
    result = merge(list(two_datasets()))
    sources = result.totals["sources"]
    assert list(sources) == list(CLASSES)
    kept = result.manifest.groupby(["class", "dataset"]).size()
    for cls, counts in sources.items():
        assert counts == {d: int(kept.get((cls, d), 0)) for d in ("flat_ds", "split_ds")}


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_classes_do_not_break_the_split(n):
    tiny = part("flat_ds", ["Angry"] * n + ["Happy"] * 10 + ["Neutral"] * 10, [""] * (n + 20))
    result = merge([tiny])
    assert (result.manifest["class"] == "Angry").sum() == n


def test_map_entries_that_match_no_label_are_named_together_with_the_labels_there_are():
    ck = part("ck48", ["anger", "happy", "contempt"] * 4, [""] * 12)
    jaffe = part("jaffe", ["HAP", "ANG"] * 4, [""] * 8)
    label_map = {
        "ck48": {"angry": "Angry", "happiness": "Happy", "contempt": "Angry"},
        "jaffe": {"HAP": "Happy", "angr": "Angry"},
    }
    with pytest.raises(ConfigError) as err:
        merge_parts([ck, jaffe], ("Angry", "Happy"), label_map, 0, 0.25, 0.2)
    assert str(err.value) == (
        "labels.map.ck48.angry and labels.map.ck48.happiness match no label of dataset ck48; "
        "its labels are anger, happy, contempt (closest first); "
        "labels.map.jaffe.angr matches no label of dataset jaffe; its labels are ANG, HAP "
        "(closest first)"
    )


def test_a_class_left_without_images_stops_the_merge():
    flat = part("flat_ds", ["Angry", "Happy"] * 10, [""] * 20)
    copies = part("dup_ds", ["Neutral"] * 3, [""] * 3)  # the same pixels as flat_ds's first three
    copies.images[:] = flat.images[:3]
    label_map = {"flat_ds": {"Angry": "Angry", "Happy": "Happy"}, "dup_ds": {"Neutral": "Neutral"}}
    with pytest.raises(
        ConfigError,
        match=r"class 'Neutral' has no images after the merge: labels\.map dup_ds\.Neutral kept none",
    ):
        merge_parts([flat, copies], CLASSES, label_map, 0, 0.25, 0.2)


def test_a_class_missing_from_one_split_is_a_warning():
    only_train = part(
        "split_ds", ["Anger", "Happiness", "Neutral"] * 6, ["train"] * 15 + ["test"] * 3
    )
    result = merge([only_train])
    assert result.totals["warnings"] == []
    missing = part(
        "split_ds", ["Anger"] * 6 + ["Happiness", "Neutral"] * 6, ["train"] * 12 + ["test"] * 6
    )
    assert "class 'Angry' has no test images" in merge([missing]).totals["warnings"]


def clips(n_clips=12, frames=6):
    """CK+-like: consecutive frames of one clip share the clip's label and look alike."""
    labels, files = [], []
    for c in range(n_clips):
        for f in range(frames):
            labels.append(("Angry", "Happy", "Neutral")[c % 3])
            files.append(f"{labels[-1].lower()}/S{c:03d}_001_{f:08d}.png")  # as a folder ships
    ds = part("ck48", labels, [""] * len(labels))
    ds.index["file"] = files
    return ds


def test_group_split_keeps_every_clip_in_one_split():
    label_map = {"ck48": {k: k for k in CLASSES}}

    def straddling(result):
        clip = result.manifest["file"].str.extract(r"(S\d+_\d+)_", expand=False)
        return int((result.manifest.groupby(clip)["split"].nunique() > 1).sum())

    loose = merge_parts([clips()], CLASSES, label_map, 0, 0.25, 0.2)
    grouped = merge_parts(
        [clips()], CLASSES, label_map, 0, 0.25, 0.2, groups={"ck48": r"^(S\d+_\d+)_"}
    )
    assert straddling(loose) > 0  # frame-level splitting leaks clips
    assert straddling(grouped) == 0
    assert set(grouped.manifest["split"]) == set(SPLITS)
    assert grouped.totals["total"]["kept"] == loose.totals["total"]["kept"] == 72


def test_near_copies_across_splits_are_dropped_from_evaluation_and_listed():
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (40, 24, 24)).astype(np.uint8)
    faces = np.stack([np.kron(f[:6, :6], np.ones((4, 4), np.uint8)) for f in faces])  # blocky
    labels = ["Angry", "Happy", "Neutral", "Angry"] * 10
    ds = part("flat_ds", labels, ["train"] * 30 + ["test"] * 10)
    ds.images.resize(faces.shape, refcheck=False)
    ds.images[:] = faces
    ds.images[30] = np.clip(faces[0].astype(int) + 3, 0, 255)  # test image 30: train 0, brighter
    label_map = {"flat_ds": {k: k for k in CLASSES}}
    result = merge_parts([ds], CLASSES, label_map, 0, 0.25, 0.2, near_duplicates=2)
    assert "flat_ds/30.jpg" not in set(result.manifest["file"])
    dups = result.details["flat_ds"]["duplicates"]
    assert [(d["file"], d["duplicate_of"]) for d in dups] == [
        ("flat_ds/30.jpg", "flat_ds/flat_ds/0.jpg")
    ]
    assert dups[0]["status"].startswith("duplicate (near, 0 bits) in test")
    counts = result.totals["datasets"]["flat_ds"]
    assert counts["near_duplicates"] == 1 and counts["kept"] == 39
    assert counts["decoded"] == counts["unmapped"] + counts["duplicates"] + counts["kept"]
    off = merge_parts([ds], CLASSES, label_map, 0, 0.25, 0.2, near_duplicates=-1)
    assert off.totals["datasets"]["flat_ds"]["kept"] == 40
