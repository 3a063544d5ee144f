"""`expressions serve` over real HTTP: the rows of `expressions predict --json`, a sentence for
every bad upload, no file reachable through a URL, a bug that leaves the server serving, and a
burst that gets a quick 503 instead of memory."""

from __future__ import annotations

import http.client
import io
import json
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from expressions.__main__ import main
from expressions.release.card import model_info
from expressions.serving.batcher import Batcher
from expressions.serving.choose import load_classifier
from expressions.serving.detect import make_detector
from expressions.serving.limits import Limits
from expressions.serving.web import make_app
from helpers.photos import (
    background,
    iou,
    moving_faces_clip,
    photo_folder,
    save_tiny_model,
    tiny_variant,
    write_model_card,
)
from helpers.server import serving

ROOT = Path(__file__).resolve().parents[1]
SMALL = Limits(max_bytes=20_000, max_pixels=1_000_000)


def jpeg(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


CUT = jpeg(background(120, 160, seed=3))[:1500]  # a photo cut short, as by a broken download


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("release")
    write_model_card(folder)  # as `dvc repro release` writes it
    return save_tiny_model(folder / "model.pt")


@pytest.fixture(scope="module")
def parts(model):
    classifier = load_classifier(model)
    return classifier, make_detector("haar"), model_info(model, classifier.classes)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return photo_folder(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def url(parts):
    with serving(make_app(*parts)) as base:
        yield base


@pytest.fixture(scope="module")
def small(parts):
    """The same model behind small limits: 20 kB and 1 megapixel."""
    with serving(make_app(*parts, SMALL)) as base:
        yield base


def post(base: str, name: str, data: bytes) -> requests.Response:
    return requests.post(f"{base}/predict", files={"image": (name, data)}, timeout=60)


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels and carries almost no data: a pixel bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


def one_sentence(content_type: str | None, body: bytes) -> str:
    """The error of a JSON answer `{"error": sentence}`, checked to be one sentence."""
    assert content_type == "application/json"
    (sentence,) = json.loads(body).values()
    assert sentence.endswith(".") and "\n" not in sentence and "Traceback" not in sentence
    return sentence


def said(answer: requests.Response) -> str:
    return one_sentence(answer.headers["content-type"], answer.content)


def test_the_page_and_its_assets_come_from_the_app_and_name_no_other_host(url):
    kinds = {"/": "text/html", "/static/app.js": "text/javascript", "/static/style.css": "text/css"}
    for path, kind in kinds.items():
        answer = requests.get(url + path, timeout=10)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
        assert not re.search(r"//[\w-]+\.[a-z]{2,}|@import|@font-face|url\(", answer.text), path


def test_health_names_the_model_its_classes_and_its_model_cards_accuracy(url, model):
    info = requests.get(f"{url}/health", timeout=10).json()
    assert info["status"] == "ok"
    assert info["name"] == "expression-classifier" and info["variant"] == "main"
    assert info["classes"] == list(tiny_variant().classes)
    assert (info["accuracy"], info["test_images"]) == (0.734, 120)
    assert info["source"] == str(model)


def test_predict_gives_the_rows_of_expressions_predict_json(url, photos, model, tmp_path):
    folder, truth = photos
    files = [folder / "group.jpg", folder / "empty.png"]
    out = tmp_path / "rows.json"
    main(["predict", *map(str, files), "--model", str(model), "--detector", "haar",
          "--json", str(out), "--quiet"])  # fmt: skip
    expected = json.loads(out.read_text())
    for path in files:
        answer = post(url, path.name, path.read_bytes())
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        rows = [r | {"source": path.name} for r in expected["rows"] if r["source"] == str(path)]
        assert answer.json() == {"classes": expected["classes"], "rows": rows}
    faces = post(url, "group.jpg", files[0].read_bytes()).json()["rows"]
    assert min(max(iou((r["x"], r["y"], r["w"], r["h"]), t) for r in faces) for t in truth) >= 0.5
    (empty,) = post(url, "empty.png", files[1].read_bytes()).json()["rows"]
    assert empty["note"] == "no face" and empty["face"] is None


def chunked(base: str, parts: list[bytes]) -> tuple[int, bytes]:
    """POST a multipart body in chunks, without a Content-Length: only the bytes read count."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    head = b'--b0undary\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\n\r\n'
    body = [head, *parts, b"\r\n--b0undary--\r\n"]
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    connection.request("POST", "/predict", body=iter(body), headers=headers, encode_chunked=True)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize(
    ("name", "data", "status", "says"),
    [
        ("notes.txt", b"these are notes, not a photo", 400, "notes.txt is not an image"),
        ("empty.jpg", b"", 400, "empty.jpg is empty"),
        ("cut.jpg", CUT, 400, "cut.jpg could not be decoded (image file is truncated"),
        ("big.jpg", b"\xff" * 30_000, 413, "over this server's limit of 0.02 MB"),
        ("wide.png", png_header(2000, 1000), 400, "wide.png is 2000x1000 pixels (2 megapixels), over"),
        ("bomb.png", png_header(100_000, 100_000), 400, "bomb.png has more pixels than can be"),
    ],
)  # fmt: skip
def test_a_bad_upload_gets_its_status_and_one_sentence(small, name, data, status, says):
    answer = post(small, name, data)
    assert answer.status_code == status
    assert says in said(answer)
    assert requests.get(f"{small}/health", timeout=10).status_code == 200


def test_an_upload_is_refused_on_its_length_or_bytes_read_and_must_be_a_form_field(small):
    answer = post(small, "huge.jpg", b"\xff" * 100_000)  # refused on its Content-Length
    assert answer.status_code == 413
    assert said(answer) == "The upload is 0.1 MB, over this server's limit of 0.02 MB."
    status, body = chunked(small, [b"\xff" * 8192] * 12)  # 96 kB, declared nowhere
    assert status == 413
    assert one_sentence("application/json", body) == (
        "The upload is over this server's limit of 0.02 MB."
    )
    answer = requests.post(f"{small}/predict", files={"photo": ("a.jpg", b"x")}, timeout=10)
    assert answer.status_code == 400
    assert said(answer) == "The form has no file in a field named 'image'."
    answer = requests.post(f"{small}/predict", data=b"\xff\xd8", timeout=10)
    assert answer.status_code == 415 and "multipart/form-data" in answer.json()["error"]


def test_a_client_that_hangs_up_mid_upload_leaves_the_server_serving(url, photos):
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 15000\r\n"
            b"Content-Type: multipart/form-data; boundary=b0undary\r\n\r\n"
            b'--b0undary\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\n\r\n'
            + CUT[:500]
        )
    time.sleep(0.2)
    assert requests.get(f"{url}/health", timeout=10).status_code == 200
    assert post(url, "empty.png", (photos[0] / "empty.png").read_bytes()).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/..%5c..%5cpyproject.toml",
        "/static/app.js/../../../pyproject.toml",
        "/static/",
        "/static/index.html/../../../../etc/passwd",
        "//etc/passwd",
        "/page/index.html",
        "/serving/web.py",
    ],
)
def test_no_file_is_readable_through_a_url(url, path):
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)  # sent as written: no client normalises the dots away
    response = connection.getresponse()
    body = response.read()
    assert response.status == 404
    assert one_sentence(response.getheader("content-type"), body) == (
        "There is nothing at this address; the page is at /."
    )
    assert b"build-system" not in body and b"root:" not in body


class Flaky:
    """The tiny model, but its first call raises: a bug in the middle of a request."""

    def __init__(self, classifier) -> None:
        self.inner, self.calls = classifier, 0
        self.classes, self.image_size = classifier.classes, classifier.image_size

    def proba(self, faces: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("a bug deep inside the model")
        return self.inner.proba(faces)


def test_a_bug_is_a_500_sentence_and_the_server_goes_on(parts, photos):
    classifier, detector, info = parts
    data = (photos[0] / "group.jpg").read_bytes()
    with serving(make_app(Flaky(classifier), detector, info)) as base:
        answer = post(base, "group.jpg", data)
        assert answer.status_code == 500
        sentence = said(answer)
        assert "(RuntimeError)" in sentence and "deep inside" not in sentence
        assert requests.get(f"{base}/health", timeout=10).status_code == 200
        assert post(base, "group.jpg", data).status_code == 200  # the worker lived on


def test_a_burst_past_the_waiting_limit_gets_a_quick_503(parts, photos):
    classifier, haar, info = parts
    entered, release = threading.Event(), threading.Event()

    def slow(images):
        entered.set()
        release.wait(30)
        return haar(images)

    data = (photos[0] / "group.jpg").read_bytes()
    with serving(make_app(classifier, slow, info, Limits(waiting=1))) as base:
        first: list[requests.Response] = []
        thread = threading.Thread(target=lambda: first.append(post(base, "a.jpg", data)))
        thread.start()
        assert entered.wait(30)  # the first photo is in the worker's hands
        start = time.monotonic()
        busy = post(base, "b.jpg", data)
        assert busy.status_code == 503 and time.monotonic() - start < 5
        assert said(busy).startswith("The server is busy")
        release.set()
        thread.join(30)
    assert first[0].status_code == 200


def test_waiting_uploads_are_classified_together_within_the_pixel_budget():
    calls: list[list[str]] = []
    busy, gate = threading.Event(), threading.Event()

    def run(paths: list[Path]) -> list[str]:
        busy.set()
        gate.wait(10)  # the first batch holds the worker while the others queue up
        calls.append([p.name for p in paths])
        return [p.name.upper() for p in paths]

    batcher = Batcher(run, batch=3, pixel_budget=25)
    batcher.start()
    futures = [batcher.submit(Path("a"), 10)]
    assert busy.wait(10)
    futures += [batcher.submit(Path(name), 10) for name in "bcdefg"]
    gate.set()
    assert [f.result(10) for f in futures] == list("ABCDEFG")
    batcher.stop()
    assert calls == [["a"], ["b", "c"], ["d", "e"], ["f", "g"]]  # 3 x 10 px is over 25


def test_the_serve_command_binds_to_loopback_and_serves_the_page(model, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    argv = ["serve", "--model", str(model), "--detector", "haar", "--port", str(port)]
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "expressions", *argv], stderr=log, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "expressions serve did not start in 60 s"
                time.sleep(0.05)
        assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    finally:
        server.terminate()
        server.wait(30)
    assert f"http://127.0.0.1:{port}/" in (tmp_path / "serve.log").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "expressions", "serve", "--model", str(model), "--port", "0"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == "error: --port must be between 1 and 65535, not 0"


def test_health_says_why_this_model_and_warns_for_one_trained_on_drawn_faces(tmp_path, model):
    drawn = tmp_path / "model.pt"
    shutil.copy(model, drawn)
    write_model_card(tmp_path, origin="synthetic")
    classifier = load_classifier(drawn)
    info = model_info(drawn, classifier.classes, "--model it: a test", classifier.real_faces)
    assert info.warning == "trained on drawn faces: not for photos of people"
    with serving(make_app(classifier, make_detector("none"), info)) as base:
        health = requests.get(f"{base}/health", timeout=10).json()
    assert health["why"] == "--model it: a test" and health["warning"] == info.warning


def test_webcam_frames_of_one_session_keep_their_ids_and_a_bad_session_gets_a_sentence(url, photos):
    photo = (photos[0] / "group.jpg").read_bytes()

    def frame(session: str) -> list[dict]:
        answer = requests.post(
            f"{url}/predict",
            files={"image": ("webcam.jpg", photo)},
            data={"session": session},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        return [r for r in answer.json()["rows"] if r["face"] is not None]

    first, second = frame("page-a"), frame("page-a")
    assert [r["track"] for r in first] == [r["track"] for r in second] == [1, 2, 3]
    assert [r["track"] for r in frame("page-b")] == [1, 2, 3]  # another page, its own ids
    assert all(r["track"] is None for r in post(url, "group.jpg", photo).json()["rows"])
    refused = requests.post(
        f"{url}/predict", files={"image": ("a.jpg", photo)}, data={"session": "../x"}, timeout=60
    )
    assert refused.status_code == 400
    assert said(refused) == "The 'session' field is 1-64 letters, digits, - or _."


def test_webcam_sessions_are_bounded_in_number_and_time():
    from expressions.serving.sessions import Sessions

    classes = ["a", "b"]

    def rows(p: float) -> list[dict]:
        box = {"face": 0, "x": 10, "y": 10, "w": 50, "h": 50, "score": 0.99}
        return [box | {"p_a": p, "p_b": 1 - p, "predicted": "a"}]

    held = Sessions(most=2, idle_s=60)
    for name in ("one", "two", "three"):
        held.follow(name, rows(1.0), classes)
    assert len(held) == 2 and "one" not in held._held  # the longest unused made room
    smoothed = rows(0.0)
    held.follow("three", smoothed, classes)  # the same person, now all b: averaged (0.5 each)
    assert smoothed[0]["track"] == 1 and smoothed[0]["p_a"] == 0.5
    idle = Sessions(most=8, idle_s=-1)  # every session is idle at once
    idle.follow("one", rows(1.0), classes)
    idle.follow("two", rows(1.0), classes)
    assert len(idle) == 1


def post_video(base: str, name: str, data: bytes) -> requests.Response:
    return requests.post(f"{base}/video", files={"video": (name, data)}, timeout=120)


def test_a_video_gets_each_persons_track_summary_and_rows(url, tmp_path):
    clip = tmp_path / "talk.mp4"
    moving_faces_clip(clip, frames=24)
    answer = post_video(url, "talk.mp4", clip.read_bytes())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["seconds"], body["every"]) == ("talk.mp4", 0.8, 1)
    longest = sorted(body["tracks"], key=lambda t: -t["frames"])[:3]
    assert all(t["frames"] >= 20 for t in longest), body["tracks"]  # three people, followed
    assert {r["track"] for r in body["rows"]} >= {t["track"] for t in longest}
    assert {r["source"] for r in body["rows"]} == {"talk.mp4"}


def test_a_video_over_the_limits_is_refused_in_one_sentence_and_a_long_one_sampled(parts, tmp_path):
    clip = tmp_path / "talk.mp4"
    moving_faces_clip(clip, frames=24)
    data = clip.read_bytes()
    with serving(make_app(*parts, Limits(video_s=0.5))) as base:
        short = post_video(base, "talk.mp4", data)
        notes = post_video(base, "notes.txt", b"not a video")
        fake = post_video(base, "fake.mp4", b"not a video either")
    assert short.status_code == 400
    assert said(short) == "talk.mp4 is 0.8 s long, over this server's limit of 0.5 s."
    assert notes.status_code == 415 and said(notes).startswith("notes.txt is not a video")
    assert fake.status_code == 400 and said(fake).startswith("fake.mp4 could not be read as")
    with serving(make_app(*parts, Limits(video_frames=10))) as base:
        sampled = post_video(base, "talk.mp4", data).json()
    assert sampled["every"] == 3 and {r["frame"] % 3 for r in sampled["rows"]} == {0}


def test_a_second_video_while_one_is_analysed_gets_a_quick_503(url, tmp_path):
    long, short = tmp_path / "long.mp4", tmp_path / "short.mp4"
    moving_faces_clip(long, frames=150)
    moving_faces_clip(short, frames=6)
    first: list[requests.Response] = []
    worker = threading.Thread(
        target=lambda: first.append(post_video(url, "long.mp4", long.read_bytes()))
    )
    worker.start()
    time.sleep(1.0)  # the long one is being analysed (about 5 s here)
    started = time.perf_counter()
    busy = post_video(url, "short.mp4", short.read_bytes())
    waited = time.perf_counter() - started
    worker.join()
    assert busy.status_code == 503 and waited < 2.0
    assert said(busy) == "The server is analysing another video; try again in a moment."
    assert first[0].status_code == 200
    assert post_video(url, "short.mp4", short.read_bytes()).status_code == 200  # free again
