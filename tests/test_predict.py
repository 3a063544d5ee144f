"""`expressions predict` on photos built in code: every face found, no-face and unreadable rows,
videos, crops that match evaluation, and checkpoints that are refused when they carry code."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data, transform

from expressions.__main__ import main
from expressions.analysis.evaluation import predict_proba
from expressions.data.images import clean_files
from expressions.serving.detect import make_detector
from expressions.training.model_file import load_model
from helpers.photos import (
    PATCH,
    background,
    group_photo,
    iou,
    paste_faces,
    photo_folder,
    save_tiny_model,
    tiny_variant,
)

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = data.astronaut()[PATCH]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder, boxes = photo_folder(tmp_path_factory.mktemp("photos"))
    (folder / "notes.jpg").write_text("not an image")
    return folder, boxes


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "model.pt")


def run_cli(*argv: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "expressions", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


def matched(found: list[tuple[int, int, int, int]], truth: list[tuple[int, int, int, int]]):
    return [max((iou(f, t) for f in found), default=0.0) for t in truth]


@pytest.mark.parametrize("name", ["mtcnn", "haar", "lbp"])
def test_every_detector_finds_every_pasted_face_and_none_on_background(photos, name):
    image, truth = group_photo()
    detect = make_detector(name)
    found = [(b.x, b.y, b.w, b.h) for b in detect([image])[0]]
    assert min(matched(found, truth)) >= 0.5, found
    assert detect([background(seed=1)]) == [[]]


def test_mtcnn_the_default_also_finds_a_tilted_head():
    """Why mtcnn is the default: the frontal cascades miss heads tilted by 20-30 degrees."""
    image = background(320, 320, seed=2)
    ((x, y, w, h),) = paste_faces(image, [(60, 40, 1.0)])
    region = image[y - 20 : y + h + 20, x - 20 : x + w + 20]
    region[:] = transform.rotate(region, 25, preserve_range=True, mode="edge").astype(np.uint8)
    found = [(b.x, b.y, b.w, b.h) for b in make_detector("mtcnn")([image])[0]]
    assert matched(found, [(x, y, w, h)])[0] >= 0.5


def test_group_photo_gives_a_row_per_face_a_no_face_row_and_an_unreadable_row(
    photos, model, tmp_path
):
    folder, truth = photos
    out = tmp_path / "out"
    main(
        [
            "predict",
            str(folder / "group.jpg"),
            str(folder / "empty.png"),
            str(folder / "notes.jpg"),
            "--model",
            str(model),
            "--csv",
            str(tmp_path / "rows.csv"),
            "--json",
            str(tmp_path / "rows.json"),
            "--annotate",
            str(out),
            "--quiet",
        ]
    )
    rows = list(csv.DictReader((tmp_path / "rows.csv").open()))
    faces = [r for r in rows if r["source"].endswith("group.jpg")]
    assert [r["face"] for r in faces] == ["0", "1", "2"]
    boxes = [tuple(int(r[k]) for k in "xywh") for r in faces]
    assert min(matched(boxes, truth)) >= 0.5
    classes = tiny_variant().classes
    for r in faces:
        p = [float(r[f"p_{c}"]) for c in classes]
        assert abs(sum(p) - 1) < 1e-4 and r["predicted"] == classes[int(np.argmax(p))]
        assert float(r["score"]) > 0.9
    (empty,) = [r for r in rows if r["source"].endswith("empty.png")]
    assert empty["note"] == "no face" and empty["face"] == "" and empty["predicted"] == ""
    (bad,) = [r for r in rows if r["source"].endswith("notes.jpg")]
    assert bad["note"].startswith("unreadable: ")
    as_json = json.loads((tmp_path / "rows.json").read_text())
    assert as_json["classes"] == list(classes)
    assert [(r["source"], r["face"], r["x"]) for r in as_json["rows"]] == [
        (r["source"], int(r["face"]) if r["face"] else None, int(r["x"]) if r["x"] else None)
        for r in rows
    ]
    drawn = np.asarray(Image.open(next(out.glob("*group.jpg.png"))))
    x, y, w, _ = boxes[0]
    original = np.asarray(Image.open(folder / "group.jpg"))
    assert drawn.shape == original.shape
    edge = drawn[y, x : x + w]  # the box's top edge is drawn in red
    assert (edge[:, 0] > 200).mean() > 0.9 and (edge[:, 1] < 80).mean() > 0.9


def test_nothing_readable_is_one_sentence_and_exit_1(photos, model):
    folder, _ = photos
    done = run_cli("predict", folder / "notes.jpg", "--model", model, "--detector", "none")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: none of the 1 inputs could be read as an image or video"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "tund"], "did you mean tuned? the models here are fer2013"),
        (["--model", "nosuchvariant"], ", main, tuned; or pass a model folder"),
        (["--max-megapixels", "0"], "--max-megapixels must be above 0, not 0"),
        (["--every", "0"], "--every must be a whole number >= 1, not 0"),
        (["--model", "release"], "no model at models/release yet; `dvc repro release` builds it"),
    ],
)
def test_bad_options_are_one_sentence(photos, tmp_path, argv, message):
    folder, _ = photos
    for variant in ("tuned", "main"):  # a project where two variants are built
        save_tiny_model(tmp_path / "models" / variant / "seed-0" / "model.pt")
    done = run_cli("predict", folder / "group.jpg", "--detector", "none", *argv, cwd=tmp_path)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_runtime_onnx_on_a_folder_without_onnx_is_an_error_not_a_fall_back(photos, model):
    folder, _ = photos
    done = run_cli("predict", folder / "group.jpg", "--model", model.parent, "--runtime", "onnx")
    assert done.returncode == 1 and "--runtime onnx: " in done.stderr
    assert "holds no model.onnx" in done.stderr


def test_a_folder_of_images_and_notes_gives_the_images_rows_and_the_summary_counts_in_words(
    photos, model, tmp_path
):
    folder, _ = photos
    inputs = tmp_path / "inputs"
    (inputs / "a").mkdir(parents=True)
    shutil.copy(folder / "group.jpg", inputs / "a" / "face.jpg")
    shutil.copy(folder / "group.jpg", inputs / "a" / "face.png")
    (inputs / "a" / "notes.txt").write_text("not an image")
    (inputs / ".DS_Store").write_bytes(b"litter")
    done = run_cli("predict", inputs, "--model", model, "--detector", "haar", "--csv",
                   tmp_path / "rows.csv", "--annotate", tmp_path / "drawn", "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "rows.csv").open()))
    assert not [r for r in rows if r["note"]]  # notes.txt and .DS_Store: not images, skipped
    last = done.stderr.strip().splitlines()[-1]
    expected = r"6 faces in 2 images of 2 files, 1 other file skipped \(not images or videos\), "
    assert re.fullmatch(expected + r"\d+\.\d s: [\d,]+ faces/s", last), last
    drawn = sorted(p.name for p in (tmp_path / "drawn").iterdir())
    prefix = str(inputs).strip("/").replace("/", "__")
    assert drawn == [f"{prefix}__a__face.jpg.png", f"{prefix}__a__face.png.png"]  # none overwritten


class Payload:
    """Unpickling this runs a command: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_carrying_pickled_code_is_refused_with_one_sentence(model, tmp_path):
    saved = torch.load(model, weights_only=True)
    marker = tmp_path / "code-ran"
    saved["payload"] = Payload(marker)
    torch.save(saved, tmp_path / "evil.pt")
    image = tmp_path / "face.png"
    Image.fromarray(background(64, 64)).save(image)
    done = run_cli("predict", image, "--model", tmp_path / "evil.pt", "--detector", "none")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'evil.pt'} holds pickled objects, not just weights")
    assert not marker.exists()  # the payload never ran


def test_a_folder_of_crops_with_detector_none_gives_evaluations_classes(tmp_path):
    """Same files, clean stage + evaluation's predict_proba vs `expressions predict`."""
    model = save_tiny_model(tmp_path / "model.pt", "tuned", seed=3)  # tuned: mirror-averaged
    crops = tmp_path / "crops" / "sub"
    crops.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(40):  # faces at many sizes, in colour and gray, jpg and png
        side = int(rng.integers(30, 90))
        face = transform.resize(PORTRAIT, (side, side), preserve_range=True)
        face = face * rng.uniform(0.5, 1.3) + rng.normal(0, 25, face.shape)
        face = np.clip(face, 0, 255).astype(np.uint8)
        path = crops / f"{i:02d}.{'png' if i % 2 else 'JPG'}"
        Image.fromarray(face if i % 3 else face[..., 0]).save(path)
        paths.append(path)
    loaded = load_model(model)
    net, variant = loaded.model, loaded.variant
    cleaned = clean_files(paths, variant.image_size, 1, workers=1, progress=False)
    proba = predict_proba(net, cleaned.images, 64, torch.device("cpu"), views=variant.views())
    expected = [variant.classes[i] for i in proba.argmax(1)]
    main(["predict", str(tmp_path / "crops"), "--model", str(model), "--detector", "none",
          "--csv", str(tmp_path / "rows.csv"), "--quiet"])  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "rows.csv").open()))
    assert [Path(r["source"]).name for r in rows] == [p.name for p in paths]
    assert [r["predicted"] for r in rows] == expected
    got = np.array([[float(r[f"p_{c}"]) for c in variant.classes] for r in rows])
    assert np.abs(got - proba).max() < 1e-5
    assert len(set(expected)) > 1  # the check is not trivially passed by one constant class


@pytest.mark.parametrize(("name", "codec"), [("clip.mp4", "mp4v"), ("clip.avi", "MJPG")])
def test_video_rows_every_nth_frame_with_index_and_time(model, tmp_path, name, codec):
    video = tmp_path / name
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*codec), 10.0, (320, 240))
    truth = []
    for i in range(12):  # the face drifts right; frames 10 and 11 are empty
        frame = background(240, 320, seed=i)
        truth.append(paste_faces(frame, [(20 + 10 * i, 30, 0.9)]) if i < 10 else [])
        if i >= 10:
            frame = background(240, 320, seed=i)
        writer.write(frame[..., ::-1].copy())
    writer.release()
    main(["predict", str(video), "--every", "5", "--model", str(model), "--detector", "mtcnn",
          "--csv", str(tmp_path / "rows.csv"), "--quiet"])  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "rows.csv").open()))
    assert [(r["frame"], r["time_s"]) for r in rows] == [("0", "0.0"), ("5", "0.5"), ("10", "1.0")]
    for r in rows[:2]:
        box = tuple(int(r[k]) for k in "xywh")
        assert iou(box, truth[int(r["frame"])][0]) >= 0.5
    assert rows[2]["note"] == "no face"


def test_many_crops_decoded_in_processes_give_the_rows_threads_give(model, tmp_path):
    """From PROCESS_DECODING_FROM files on, crops decode in a process pool in batches: the rows
    must come back complete, in input order, with the probabilities one thread computes."""
    from expressions.serving.choose import load_classifier
    from expressions.serving.detect import whole_image
    from expressions.serving.predict import PROCESS_DECODING_FROM, predict

    rng = np.random.default_rng(1)
    paths = []
    for i in range(PROCESS_DECODING_FROM + 7):
        side = int(rng.integers(30, 70))
        face = transform.resize(PORTRAIT, (side, side), preserve_range=True)
        path = tmp_path / f"{i:03d}.png"
        Image.fromarray(np.clip(face * rng.uniform(0.5, 1.3), 0, 255).astype(np.uint8)).save(path)
        paths.append(path)
    (tmp_path / "010.png").write_text("not an image")  # a failure inside a decoding batch
    classifier = load_classifier(model)

    def rows(workers: int) -> list[tuple]:
        out = predict(paths, classifier, whole_image, chunk=16, workers=workers, progress=False)
        return [
            (r.source, r.predicted, tuple(r.proba.values()), r.note) for _, rs in out for r in rs
        ]

    one, two = rows(1), rows(2)
    assert [r[0] for r in two] == [str(p) for p in paths]
    assert [r[1] for r in two] == [r[1] for r in one] and two[10][3].startswith("unreadable")
    assert np.allclose([r[2] for r in two if r[2]], [r[2] for r in one if r[2]], atol=1e-6)


def test_the_summary_counts_in_words():
    from expressions.serving.output import summary

    one = [{"face": 0}]
    assert summary(one, [False], 1) == "1 face in 1 image of 1 file"
    frames = [{"face": None, "note": "no face", "source": "a.jpg"}, {"face": 0}, {"face": 1}]
    assert (
        summary(frames, [False, True, True], 2)
        == "2 faces in 1 image and 2 video frames of 2 files"
    )
    failed = [{"face": None, "note": "unreadable: truncated", "source": "b.jpg"}, *one]
    assert summary(failed, [False], 2, skipped=3) == (
        "1 face in 1 image of 2 files, 1 file not read, 3 other files skipped (not images or videos)"
    )
    many = [{"face": 0}] * 3589
    assert summary(many, [False] * 3589, 3589, 126.0) == (
        "3,589 faces in 3,589 images of 3,589 files, 126.0 s: 28 faces/s"
    )
    video = [{"face": 0}] * 216
    assert summary(video, [True] * 72, 1, 3.0) == (
        "216 faces in 72 video frames of 1 file, 3.0 s: 72 faces/s, 24.0 video frames/s"
    )


def test_annotate_into_a_file_or_an_unwritable_place_is_one_sentence(photos, model, tmp_path):
    folder, _ = photos
    (tmp_path / "faces.json").write_text("{}")
    for target, words in [
        (tmp_path / "faces.json", "is a file; give a folder for the drawn images"),
        (Path("/proc/nope"), "--annotate /proc/nope: cannot write there"),
    ]:
        done = run_cli("predict", folder / "group.jpg", "--model", model, "--annotate", target)
        assert done.returncode == 1 and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_folder_scan_skips_other_files_and_counts_them_a_file_named_gets_its_row(
    photos, model, tmp_path
):
    folder, _ = photos
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(folder / "group.jpg", inputs / "group.jpg")
    (inputs / "readme.txt").write_text("notes")
    (inputs / "data.csv").write_text("a,b")
    rows = tmp_path / "rows.csv"
    done = run_cli("predict", inputs, inputs / "readme.txt", "--model", model, "--detector",
                   "haar", "--csv", rows)  # fmt: skip
    assert done.returncode == 0, done.stderr
    sources = [Path(r["source"]).name for r in csv.DictReader(rows.open())]
    assert sources.count("readme.txt") == 1 and "data.csv" not in sources
    last = done.stderr.strip().splitlines()[-1]
    assert ", 1 file not read, 2 other files skipped (not images or videos)," in last, last
    assert "group.jpg" not in done.stdout  # --csv: no table unless --table
    shown = run_cli("predict", inputs, "--model", model, "--detector", "haar", "--csv", rows,
                    "--table")  # fmt: skip
    assert "group.jpg" in shown.stdout


def test_a_photo_over_the_pixel_limit_is_refused_with_its_row(photos, model, tmp_path):
    folder, _ = photos
    big = tmp_path / "big.png"
    Image.new("L", (3000, 2000), 128).save(big)
    rows = tmp_path / "rows.csv"
    done = run_cli("predict", big, folder / "group.jpg", "--model", model, "--detector", "haar",
                   "--max-megapixels", "5", "--csv", rows)  # fmt: skip
    assert done.returncode == 0, done.stderr
    notes = {Path(r["source"]).name: r["note"] for r in csv.DictReader(rows.open())}
    assert notes["big.png"] == ("refused: 3000x2000 pixels (6 megapixels), over --max-megapixels 5")
    assert "DecompressionBomb" not in done.stderr


def test_a_large_jpeg_is_decoded_reduced_and_its_boxes_are_in_the_files_pixels(tmp_path):
    from expressions.serving.inputs import read_image
    from expressions.serving.predict import predict
    from expressions.serving.torch_model import TorchClassifier

    image, truth = group_photo()
    big = np.asarray(Image.fromarray(image).resize((image.shape[1] * 8, image.shape[0] * 8)))
    path = tmp_path / "big.jpg"
    Image.fromarray(big).save(path, quality=90)
    frame = read_image(path)
    assert frame.scale > 1 and frame.image.shape[1] * frame.scale == big.shape[1]
    model = TorchClassifier.load(save_tiny_model(tmp_path / "model.pt"))
    ((_, rows),) = predict([path], model, make_detector("haar"), progress=False)
    found = [(r.box.x, r.box.y, r.box.w, r.box.h) for r in rows]
    scaled = [(x * 8, y * 8, w * 8, h * 8) for x, y, w, h in truth]
    assert min(matched(found, scaled)) >= 0.5, (found, scaled)


def test_faces_are_numbered_as_a_person_reads_them_rows_then_left_to_right():
    from expressions.serving.detect import Box, reading_order

    big_right = Box(400, 30, 120, 120, 0.99)  # the largest, top right: numbered 2nd, not 1st
    top_left = Box(20, 60, 60, 60, 0.9)
    below = Box(200, 300, 80, 80, 0.8)
    order = reading_order([big_right, below, top_left])
    assert order == [top_left, big_right, below]
