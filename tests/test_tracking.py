"""Faces followed through a video (serving/tracking.py): the rules on boxes the test places, then
`expressions predict` on clips the test writes, with MTCNN finding the pasted faces."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter

import cv2
import numpy as np
import pytest

from expressions.__main__ import main
from expressions.serving.detect import Box
from expressions.serving.tracking import TrackOptions, VideoTracks
from helpers.photos import iou, moving_faces_clip, save_tiny_model

FPS = 30.0  # the clips' rate
SHAPE = (480, 640, 3)


def run_boxes(
    tracks: VideoTracks, frames: list[list[Box]], images: list[np.ndarray] | None = None
) -> list[list[tuple[int | None, Box]]]:
    """Each frame stepped and followed in order, the searched ones given their true boxes."""
    out = []
    for i, boxes in enumerate(frames):
        image = images[i] if images else np.full(SHAPE, 120, np.uint8)
        step = tracks.step(image, i)
        out.append(tracks.follow(step, i, boxes if step.search else None, SHAPE))
    return out


def moving(i: int, x0: int, y0: int, dx: int, dy: int = 0, side: int = 80) -> Box:
    return Box(x0 + dx * i, y0 + dy * i, side, side, 0.99)


def test_a_search_every_sixth_frame_and_boxes_carried_by_their_velocity():
    frames = [[moving(i, 20, 30, 4), moving(i, 300, 200, -3, 2)] for i in range(30)]
    tracks = VideoTracks(FPS, TrackOptions())
    followed = run_boxes(tracks, frames)
    for i, faces in enumerate(followed):
        assert [tid for tid, _ in faces] == [1, 2], i  # one id per face, from the first search on
        for (_, got), true in zip(faces, frames[i], strict=True):
            if i >= 6:  # from the second search on, the velocity is known: the box keeps up
                assert (abs(got.x - true.x), abs(got.y - true.y)) <= (1, 1), (i, got, true)


def test_the_search_interval_is_video_time_and_zero_searches_every_frame():
    def searched(options: TrackOptions, fps: float, every: int = 1) -> list[int]:
        tracks = VideoTracks(fps, options, every)
        image = np.full(SHAPE, 90, np.uint8)
        return [i for i in range(0, 24, every) if tracks.step(image, i).search]

    assert searched(TrackOptions(), 30) == list(range(0, 24, 6))
    assert searched(TrackOptions(), 5) == list(range(24))  # 0.2 s apart: every frame
    assert searched(TrackOptions(), 30, every=5) == list(range(0, 24, 10))
    assert searched(TrackOptions(search_every_s=0), 30) == list(range(24))


def test_a_face_gone_briefly_keeps_its_id_and_one_gone_long_gets_a_new_one():
    still = Box(100, 100, 90, 90, 0.99)
    other = Box(400, 100, 90, 90, 0.99)
    brief = [[still, other] if not 9 <= i < 21 else [still] for i in range(40)]  # 0.4 s away
    ids = {tid for faces in run_boxes(VideoTracks(FPS, TrackOptions()), brief) for tid, _ in faces}
    assert ids == {1, 2}
    long = [[still, other] if not 9 <= i < 60 else [still] for i in range(80)]  # 1.7 s away
    followed = run_boxes(VideoTracks(FPS, TrackOptions()), long)
    assert [tid for tid, _ in followed[-1]] == [1, 3]  # lost_after_s = 1: a new person


def test_a_cut_ends_every_track():
    box = Box(200, 150, 100, 100, 0.99)
    images = [np.full(SHAPE, 40 if i < 10 else 200, np.uint8) for i in range(20)]
    tracks = VideoTracks(FPS, TrackOptions())
    followed = run_boxes(tracks, [[box]] * 20, images)
    assert {tid for tid, _ in followed[9]} == {1}
    assert {tid for f in followed[10:] for tid, _ in f} == {2}  # same place, another scene


def test_smoothing_is_a_moving_average_per_track():
    tracks = VideoTracks(FPS, TrackOptions(smooth=0.25))
    run_boxes(tracks, [[Box(10, 10, 80, 80, 0.99), Box(300, 10, 80, 80, 0.99)]])
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert tracks.smooth(1, a).tolist() == [1.0, 0.0]  # a track starts from its first frame
    assert tracks.smooth(2, b).tolist() == [0.0, 1.0]
    assert tracks.smooth(1, b).tolist() == [0.75, 0.25]
    assert tracks.smooth(1, b).tolist() == [0.5625, 0.4375]
    assert tracks.smooth(None, a) is a  # a photo's face: as classified


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "model.pt")


def person_of(row: dict, truth: dict[int, tuple]) -> int | None:
    box = tuple(int(row[k]) for k in "xywh")
    best = max(truth, key=lambda p: iou(box, truth[p]), default=None)
    return best if best is not None and iou(box, truth[best]) >= 0.3 else None


def test_predict_follows_three_people_and_writes_tracks_timeline_and_video(model, tmp_path, capsys):
    clip = tmp_path / "three.mp4"
    truth = moving_faces_clip(clip)
    out = tmp_path / "out"
    main(["predict", str(clip), "--model", str(model), "--csv", str(out / "rows.csv"),
          "--tracks", str(out / "tracks.json"), "--timeline", str(out / "timeline"),
          "--annotate", str(out / "drawn"), "--quiet"])  # fmt: skip
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ faces in 72 video frames of 1 file, .* [\d.]+ video frames/s", last)
    rows = [r for r in csv.DictReader((out / "rows.csv").open()) if r["track"]]
    ids: dict[int, Counter] = {p: Counter() for p in range(3)}
    for r in rows:
        person = person_of(r, truth[int(r["frame"])])
        if person is not None:
            ids[person][int(r["track"])] += 1
    for person, counts in ids.items():
        seen = sum(person in t for t in truth)
        top = counts.most_common(1)[0][1]
        assert top >= 0.9 * seen, (person, counts, seen)  # one id for >= 90 % of its frames
    assert len({c.most_common(1)[0][0] for c in ids.values()}) == 3
    summary = json.loads((out / "tracks.json").read_text())["tracks"]
    by_track = {t["track"]: t for t in summary}
    assert by_track[ids[0].most_common(1)[0][0]]["frames"] >= 65
    assert {"first_s", "last_s", "mostly"} <= set(summary[0])
    shares = [v for k, v in summary[0].items() if k.startswith("share_")]
    assert abs(sum(shares) - 1) < 1e-3
    (png,) = (out / "timeline").glob("*__three.mp4.timeline.png")  # named after the whole path
    assert png.stat().st_size > 5000
    spec = json.loads(png.with_name(png.name[: -len("png")] + "json").read_text())
    assert spec["encoding"]["row"]["field"] == "track" and spec["data"]["values"]
    (video,) = (out / "drawn").glob("*__three.mp4.mp4")
    drawn = cv2.VideoCapture(str(video))
    assert int(drawn.get(cv2.CAP_PROP_FRAME_COUNT)) == 72
    assert not list(out.rglob(".tmp-*"))


def test_a_cut_starts_new_tracks_and_every_n_still_works(model, tmp_path):
    clip = tmp_path / "cut.mp4"
    moving_faces_clip(clip, frames=48, cut_at=30)
    main(["predict", str(clip), "--model", str(model), "--every", "2",
          "--csv", str(tmp_path / "rows.csv"), "--quiet"])  # fmt: skip
    rows = [r for r in csv.DictReader((tmp_path / "rows.csv").open()) if r["track"]]
    assert {int(r["frame"]) % 2 for r in rows} == {0}
    before = {r["track"] for r in rows if int(r["frame"]) < 30}
    after = {r["track"] for r in rows if int(r["frame"]) >= 30}
    assert before and after and not before & after


def test_the_progress_bar_counts_a_videos_frames(tmp_path):
    from expressions.serving.predict import work_units

    clip = tmp_path / "clip.mp4"
    moving_faces_clip(clip, frames=24)
    (tmp_path / "fake.mp4").write_bytes(b"not a video")
    photo = tmp_path / "a.jpg"  # counted as one picture whether or not it reads
    assert work_units([photo, clip], every=1) == 25
    assert work_units([photo, clip, tmp_path / "fake.mp4"], every=5) == 1 + 5 + 1
