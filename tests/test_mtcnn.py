"""The faster MTCNN cascade (serving/mtcnn.py) finds what facenet-pytorch's own detect finds."""

import numpy as np
import pytest
import torch
from facenet_pytorch import MTCNN

from expressions.serving.mtcnn import cascade, channels_last, pyramid
from helpers.photos import background, group_photo, iou, paste_faces


@pytest.fixture(scope="module")
def nets():
    cpu = torch.device("cpu")
    facenet = MTCNN(keep_all=True, min_face_size=20, device=cpu)
    return facenet, channels_last(MTCNN(keep_all=True, min_face_size=20, device=cpu))


def photos() -> list[np.ndarray]:
    """The group photo and four more with three faces each, 25-190 px, at random places."""
    rng = np.random.default_rng(3)
    images = [group_photo()[0]]
    for seed in range(4):
        image = background(480, 640, seed=seed)
        places = [(int(rng.integers(0, 480)), int(rng.integers(0, 300)), rng.uniform(0.25, 0.9))]
        places += [(int(rng.integers(0, 480)), int(rng.integers(0, 300)), rng.uniform(0.25, 0.9))]
        paste_faces(image, places)
        images.append(image)
    return images


def corners_iou(a, b) -> float:
    """IoU of two (x1, y1, x2, y2) boxes, as MTCNN gives them."""
    return iou(*((x1, y1, x2 - x1, y2 - y1) for x1, y1, x2, y2 in (a[:4], b[:4])))


def test_the_same_faces_as_facenets_own_detect(nets):
    facenet, ours = nets
    images = photos()
    theirs, scores = facenet.detect(np.stack(images))
    found = cascade(ours, images)
    assert len(found) == len(images)
    total = 0
    for their_boxes, their_scores, (boxes, probs) in zip(theirs, scores, found, strict=True):
        expected = [b for b, p in zip(their_boxes, their_scores, strict=True) if p >= 0.9]
        got = [b for b, p in zip(boxes, probs, strict=True) if p >= 0.9]
        assert len(got) == len(expected)
        for box in expected:  # each of facenet's faces, found at nearly the same place
            assert max(corners_iou(box, other) for other in got) > 0.75
        total += len(got)
    assert total >= 9  # the faces are there to find: the test is not vacuous


def test_no_face_and_too_small_an_image_give_no_boxes(nets):
    _, ours = nets
    assert pyramid(15, 15, 20, 0.709) == []
    [(boxes, probs)] = cascade(ours, [background(480, 640)])
    [(tiny, tiny_probs)] = cascade(ours, [np.zeros((15, 15, 3), np.uint8)])
    assert boxes.shape == (0, 4) and probs.shape == (0,)
    assert tiny.shape == (0, 4) and tiny_probs.shape == (0,)


def test_a_batch_keeps_each_images_faces_apart(nets):
    _, ours = nets
    crowd, _ = group_photo()
    empty = background(480, 640, seed=5)
    (first, _), (second, _), (third, _) = cascade(ours, [crowd, empty, crowd])
    assert len(first) == len(third) >= 3 and len(second) == 0
    np.testing.assert_allclose(first, third)
