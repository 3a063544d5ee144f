"""The page of `expressions serve` in headless Chromium with the network cut: a photo of real
faces gets a box on each face at its known place, whatever size the photo is shown at and however
wide the window, a text file gets its message, and a fake webcam filming the same photo gets
boxes too."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from expressions.release.card import model_info
from expressions.serving.choose import load_classifier
from expressions.serving.detect import make_detector
from expressions.serving.web import make_app
from helpers.browser import chromium, console_errors, needs_chromium, screenshot
from helpers.photos import (
    background,
    group_photo,
    iou,
    moving_faces_clip,
    paste_faces,
    save_tiny_model,
    write_model_card,
)
from helpers.server import serving

pytestmark = [pytest.mark.browser, needs_chromium]

# Each face box in the picture's own pixels (its rectangle on screen scaled by the picture's
# natural size), with its class and the text of its tag.
BOXES = """
const picture = document.querySelector('#stage img:not([hidden]), #stage video:not([hidden])');
const frame = picture.getBoundingClientRect();
const sx = (picture.naturalWidth || picture.videoWidth) / frame.width;
const sy = (picture.naturalHeight || picture.videoHeight) / frame.height;
return Array.from(document.querySelectorAll('.face-box')).map(box => {
  const r = box.getBoundingClientRect();
  return [[(r.left - frame.left) * sx, (r.top - frame.top) * sy, r.width * sx, r.height * sy],
          box.dataset.class, box.textContent];
});
"""
# Keeps the answers of POST /predict in `window.answers`, for the rows the page was given.
RECORD = """
window.answers = [];
const original = window.fetch;
window.fetch = async (url, options) => {
  const answer = await original(url, options);
  if (url === '/predict') window.answers.push(await answer.clone().json());
  return answer;
};
"""
SHOWN = "return document.querySelector('#stage :is(img, video):not([hidden])').clientWidth"
# A webcam that films at arguments[0] x arguments[1] whatever size the page asks for, as a real
# one may (Chromium's fake one would otherwise scale its video to the page's 640x480).
FILMS_AT = """
const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
const [width, height] = arguments;
navigator.mediaDevices.getUserMedia = () => open({ video: { width, height } });
"""
# How far each face's label reaches past the picture's left and right edges, in screen pixels.
TAGS_OUTSIDE = """
const frame = document.querySelector('#stage img:not([hidden])').getBoundingClientRect();
return Array.from(document.querySelectorAll('.face-tag')).map(tag => {
  const r = tag.getBoundingClientRect();
  return Math.max(frame.left - r.left, r.right - frame.right, 0);
});
"""
WIDE, NARROW = (1400, 1000), (400, 900)  # window sizes: the picture beside its cards, or alone


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> tuple[Path, list[tuple[int, int, int, int]]]:
    folder = tmp_path_factory.mktemp("photo")
    image, truth = group_photo()
    Image.fromarray(image).save(folder / "group.jpg", quality=95)
    return folder / "group.jpg", truth


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    write_model_card(folder)
    model = save_tiny_model(folder / "model.pt")
    classifier = load_classifier(model)
    app = make_app(classifier, make_detector("haar"), model_info(model, classifier.classes))
    with serving(app) as base:
        yield base.replace("127.0.0.1", "localhost")  # the one name the offline browser resolves


@pytest.fixture(scope="module")
def browser():
    with chromium(offline=True, width=WIDE[0], height=WIDE[1]) as driver:
        yield driver


def updated(driver, after: int = 0, wait: float = 30) -> None:
    """Wait until the page has shown more than `after` results."""
    WebDriverWait(driver, wait).until(
        lambda d: int(d.find_element(By.ID, "stage").get_attribute("data-updates") or 0) > after
    )


def assert_boxes_on_the_faces(found: list, truth: list, classes: list[str]) -> None:
    assert len(found) == len(truth), found
    for place in truth:
        (box, name, tag), overlap = max(((f, iou(f[0], place)) for f in found), key=lambda x: x[1])
        assert overlap >= 0.5, (place, box)
        assert name in classes and name in tag


def assert_boxes_on_the_rows(found: list, rows: list[dict]) -> None:
    """Each drawn box (in the page's order, the rows' order) covers its row's box at IoU >= 0.9."""
    assert len(found) == len(rows), (found, rows)
    for (box, name, _), row in zip(found, rows, strict=True):
        assert iou(box, (row["x"], row["y"], row["w"], row["h"])) >= 0.9, (box, row)
        assert name == row["predicted"]


def message_after(driver, path: Path) -> tuple[str, bool]:
    """Choose `path`; once the page's message changes, its text and whether it is an error."""
    before = driver.find_element(By.ID, "message").text
    driver.find_element(By.ID, "file").send_keys(str(path))
    WebDriverWait(driver, 60).until(
        lambda d: (
            d.find_element(By.ID, "message").text not in (before, "")
            and not d.find_element(By.ID, "message").text.startswith(("Looking", "Following"))
        )
    )
    message = driver.find_element(By.ID, "message")
    return message.text, message.get_attribute("class") == "error"


def test_a_photo_gets_a_box_on_each_face_and_bad_files_their_messages(url, photo, tmp_path):
    path, truth = photo
    (tmp_path / "notes.txt").write_text("not a photo")
    Image.fromarray(background(seed=1)).save(tmp_path / "empty.png")
    (tmp_path / "big.jpg").write_bytes(b"\xff" * 12_000_000)
    with chromium(offline=True) as driver:
        driver.get(url)
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "model-classes").text)
        model = [driver.find_element(By.ID, f"model-{k}").text for k in ("name", "accuracy")]
        classes = driver.find_element(By.ID, "model-classes").text.split(", ")
        driver.find_element(By.ID, "file").send_keys(str(path))
        updated(driver)
        found = driver.execute_script(BOXES)
        cards = driver.find_elements(By.CSS_SELECTOR, "#faces .face")
        bars = [len(card.find_elements(By.CSS_SELECTOR, ".bar")) for card in cards]
        message = driver.find_element(By.ID, "message").text
        screenshot(driver, tmp_path / "photo.png")
        clean = console_errors(driver)
        messages = [message_after(driver, tmp_path / name) for name in ("empty.png", "notes.txt")]
        messages.append(message_after(driver, tmp_path / "big.jpg"))  # refused by the page itself
        screenshot(driver, tmp_path / "too-large.png")
    assert model == [
        "expression-classifier (variant main)",
        "0.734 on the test split (120 images, Table 2 of the model card)",
    ]
    assert classes == ["Angry", "Engaged", "Happy", "Neutral"]
    assert_boxes_on_the_faces(found, truth, classes)
    assert bars == [len(classes)] * len(truth) and message == "3 faces found."
    assert clean == []
    assert messages == [
        ("No face found in this photo.", False),
        ("notes.txt is not an image this server can read (try JPEG or PNG).", True),
        ("big.jpg is 12 MB, over this server's limit of 10 MB.", True),
    ]
    assert (tmp_path / "photo.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "size", [(640, 480), (1280, 800), (3000, 2000)], ids="{0[0]}x{0[1]}".format
)
def test_boxes_stay_on_the_faces_at_any_photo_size_and_window_width(url, browser, tmp_path, size):
    """A photo shown at its own size (640x480) or scaled down (wider than 800 px, or than a 400 px
    window): each drawn box, mapped from its rectangle on screen back to the photo's pixels,
    overlaps its face at IoU >= 0.5 and the box POST /predict returned for it at IoU >= 0.9, in a
    wide window, after narrowing it to 400 px, and after widening it again."""
    image, truth = group_photo(*size)
    path = tmp_path / "group-{}x{}.jpg".format(*size)
    Image.fromarray(image).save(path, quality=90)
    browser.set_window_size(*WIDE)
    browser.get(url)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-classes").text)
    classes = browser.find_element(By.ID, "model-classes").text.split(", ")
    browser.execute_script(RECORD)
    browser.find_element(By.ID, "file").send_keys(str(path))
    updated(browser)
    [answer] = browser.execute_script("return window.answers")
    for window in (WIDE, NARROW, WIDE):
        browser.set_window_size(*window)
        found = browser.execute_script(BOXES)
        shown = browser.execute_script(SHOWN)  # on screen: up to 800 px, less in a narrow window
        assert (shown == min(size[0], 800)) if window == WIDE else (shown < NARROW[0]), shown
        assert_boxes_on_the_faces(found, truth, classes)
        assert_boxes_on_the_rows(found, answer["rows"])
        outside = browser.execute_script(TAGS_OUTSIDE)  # labels stay on the photo
        assert all(px <= 4 for px in outside), (window, outside)
    assert console_errors(browser) == []


def write_y4m(path: Path, images: list[np.ndarray], fps: int = 10) -> Path:
    """A raw YUV 4:2:0 video of `images`, the format Chromium's fake webcam plays (in a loop)."""
    height, width = images[0].shape[:2]
    frames = []
    for image in images:
        y, cb, cr = Image.fromarray(image).convert("YCbCr").split()
        half = (width // 2, height // 2)
        frames.append(
            b"FRAME\n" + y.tobytes() + cb.resize(half, Image.BOX).tobytes()
            + cr.resize(half, Image.BOX).tobytes()
        )  # fmt: skip
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n"
    path.write_bytes(header.encode() + b"".join(frames))
    return path


def fake_webcam(video: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",  # allow the camera without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


@pytest.mark.parametrize("size", [(640, 480), (1280, 800)], ids="{0[0]}x{0[1]}".format)
def test_the_webcam_sends_frames_and_gets_boxes_on_the_faces(url, tmp_path, size):
    """A webcam filming at 640x480 (shown at its own size) or 1280x800 (scaled down to 800 px):
    each drawn box, mapped back to the frame's pixels, overlaps its face at IoU >= 0.5, in a wide
    window, after narrowing it to 400 px, and after widening it again."""
    image, truth = group_photo(*size)
    video = write_y4m(tmp_path / "faces.y4m", [image] * 3)
    with chromium(offline=True, width=WIDE[0], height=WIDE[1], args=fake_webcam(video)) as driver:
        driver.get(url)
        driver.execute_script(FILMS_AT, *size)
        driver.find_element(By.ID, "webcam").click()
        updated(driver, after=1)  # two frames: the page goes on sending
        found = [driver.execute_script(BOXES)]
        for window in (NARROW, WIDE):
            driver.set_window_size(*window)
            found.append(driver.execute_script(BOXES))
        classes = driver.find_element(By.ID, "model-classes").text.split(", ")
        screenshot(driver, tmp_path / "webcam.png")
        errors = console_errors(driver)
        driver.find_element(By.ID, "webcam").click()
        stopped = driver.find_element(By.ID, "webcam").text
    for boxes in found:
        assert_boxes_on_the_faces(boxes, truth, classes)
    assert errors == []
    assert stopped == "Use the webcam"


def test_the_header_says_why_this_model_and_warns_of_one_trained_on_drawn_faces(browser, tmp_path):
    write_model_card(tmp_path, origin="synthetic")
    model = save_tiny_model(tmp_path / "model.pt")
    classifier = load_classifier(model)
    info = model_info(model, classifier.classes, "--model it: the test's", classifier.real_faces)
    with serving(make_app(classifier, make_detector("none"), info)) as base:
        browser.get(base.replace("127.0.0.1", "localhost"))
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "model-why").text)
        warning = browser.find_element(By.ID, "model-warning")
        assert browser.find_element(By.ID, "model-why").text == "--model it: the test's"
        assert warning.is_displayed() and warning.text == info.warning
        assert warning.value_of_css_property("color") == "rgba(185, 28, 28, 1)"


def test_the_webcam_follows_each_person_at_the_servers_pace(url, tmp_path):
    """Three faces moving to and fro before a fake webcam: over 20 answers in a row, each face
    keeps one track id (three ids in all), the boxes carry them, and the page shows its pace."""
    frames = []
    for i in [*range(12), *range(12, 0, -1)]:  # there and back: the fake camera loops smoothly
        image = background(seed=0)
        paste_faces(image, [(20 + 3 * i, 30, 1.4), (330, 40 + 2 * i, 1.0), (470 - 2 * i, 260, 0.6)])
        frames.append(image)
    video = write_y4m(tmp_path / "moving.y4m", frames)
    with chromium(offline=True, width=WIDE[0], height=WIDE[1], args=fake_webcam(video)) as driver:
        driver.get(url)
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "model-classes").text)
        driver.execute_script(RECORD)
        driver.find_element(By.ID, "webcam").click()
        WebDriverWait(driver, 120).until(
            lambda d: d.execute_script("return window.answers.length") >= 21
        )
        tagged = driver.execute_script(
            "return Array.from(document.querySelectorAll('.face-box'), b => b.dataset.track)"
        )
        message = driver.find_element(By.ID, "message").text
        answers = driver.execute_script("return window.answers")
        driver.find_element(By.ID, "webcam").click()
        errors = console_errors(driver)
    ids = [sorted(r["track"] for r in a["rows"] if r["face"] is not None) for a in answers[1:21]]
    assert all(len(frame) == 3 for frame in ids), ids
    assert {t for frame in ids for t in frame} == {1, 2, 3}, ids  # one id per person throughout
    assert sorted(map(int, tagged)) == [1, 2, 3]
    assert re.fullmatch(r"3 faces found\. \d+\.\d frames/s", message), message
    assert errors == []


def test_a_video_gets_a_row_and_a_timeline_per_person_and_a_bad_one_its_sentence(url, tmp_path):
    clip = tmp_path / "talk.mp4"
    moving_faces_clip(clip, frames=24)
    (tmp_path / "fake.mp4").write_bytes(b"not a video")
    with chromium(offline=True) as driver:
        driver.get(url)
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "model-classes").text)
        classes = driver.find_element(By.ID, "model-classes").text.split(", ")
        text, error = message_after(driver, clip)
        people = driver.find_elements(By.CSS_SELECTOR, "#tracks tbody tr")
        lines = [
            len(chart.find_elements(By.CSS_SELECTOR, "polyline"))
            for chart in driver.find_elements(By.CSS_SELECTOR, "#timelines .timeline")
        ]
        shown = driver.find_element(By.ID, "people").is_displayed()
        screenshot(driver, tmp_path / "video.png")
        errors = console_errors(driver)  # before the refusal, which the console logs as a 400
        refused = message_after(driver, tmp_path / "fake.mp4")
    assert re.fullmatch(r"\d+ people followed in talk\.mp4\.", text) and not error, text
    assert len(people) >= 3 and lines == [len(classes)] * len(people) and shown
    assert refused == (
        "fake.mp4 could not be read as a video (try avi, mkv, mov, mp4, webm).",
        True,
    )
    assert errors == []
