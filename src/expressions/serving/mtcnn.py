"""MTCNN's three-stage cascade run faster on a CPU: facenet-pytorch's own networks, weights and
box helpers, with the resampling done by OpenCV and the networks in channels-last memory.

Why: facenet-pytorch's `detect_face` resizes every pyramid level, and then every candidate face
one call at a time (thousands per batch of frames), with torch's `area` interpolation, and runs
the networks in NCHW memory. On a 2-core CPU that made a 640x480 frame cost about 0.13 s, most of
a followed video's time. Here the pyramid is built by OpenCV in bilinear steps, each level from
the one before, the candidates are cut and resized by OpenCV's INTER_AREA (an area average, as
torch's `area`), and channels-last convolutions and max-pooling run about twice as fast as NCHW
ones: the cascade takes about 0.6 of facenet's time, finding the same faces (docs/PERFORMANCE.md
has the numbers).

The cascade itself is facenet's: the scale pyramid, the thresholds, the NMS rules and the box
regression are its functions, called in its order. tests/test_mtcnn.py compares the boxes with
facenet's own `MTCNN.detect` on pasted faces.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import (
    batched_nms_numpy,
    bbreg,
    generateBoundingBox,
    pad,
    rerec,
)
from torchvision.ops import batched_nms

PNET_PIXELS = 300_000  # pixels per P-Net call: see _pnet
CELL = 12  # P-Net's window: a face of `min_face` pixels is scaled to this side


def channels_last(net: MTCNN) -> MTCNN:
    """The detector's three networks moved to channels-last memory (the same weights)."""
    for stage in (net.pnet, net.rnet, net.onet):
        stage.to(memory_format=torch.channels_last).eval()
    return net


def pyramid(height: int, width: int, min_face: float, factor: float) -> list[float]:
    """The scales P-Net runs at, as facenet computes them: from CELL / min_face down by
    `factor` while the image's short side stays at least CELL pixels."""
    scale, short, scales = CELL / min_face, min(height, width) * CELL / min_face, []
    while short >= CELL:
        scales.append(scale)
        scale, short = scale * factor, short * factor
    return scales


def _tensor(pixels: np.ndarray) -> torch.Tensor:
    """NHWC uint8 pixels -> the networks' input: NCHW shape, channels-last memory, scaled to
    about -1..1 as MTCNN was trained."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2)
    return (x.float() - 127.5) * 0.0078125


def _pnet(pnet, level: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """P-Net over one pyramid level, PNET_PIXELS at a time. Why: a whole batch of 640x480 frames
    makes 100 MB activations, which glibc maps fresh from the kernel for every one (its reuse
    stops at 32 MB), so page faults took a fifth of the detector's time (measured: 2.6 s against
    2.1 s for 25 frames, half the system time)."""
    step = max(1, PNET_PIXELS // (level[0].shape[0] * level[0].shape[1]))
    outs = [pnet(_tensor(np.stack(level[i : i + step]))) for i in range(0, len(level), step)]
    return torch.cat([reg for reg, _ in outs]), torch.cat([probs for _, probs in outs])


def _stage(
    stage,
    images: Sequence[np.ndarray],
    boxes: torch.Tensor,
    inds: torch.Tensor,
    side: int,
    threshold: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """R-Net's (side 24) or O-Net's (side 48) verdict on the candidates: those it scores over
    `threshold`, as boxes with its score, its box regression, and their images' indices.
    Each candidate is cut from its image as facenet pads it; one wholly outside has no crop."""
    height, width = images[0].shape[:2]
    y, ey, x, ex = pad(boxes, width, height)
    valid = (ey > y - 1) & (ex > x - 1)
    crops = [
        cv2.resize(images[i][y0 - 1 : y1, x0 - 1 : x1], (side, side), interpolation=cv2.INTER_AREA)
        for i, y0, y1, x0, x1 in zip(
            inds[valid].tolist(), y[valid], ey[valid], x[valid], ex[valid], strict=True
        )
    ]
    kept = torch.from_numpy(valid)
    boxes, inds = boxes[kept], inds[kept]
    if not crops:
        return boxes[:0, :5], boxes[:0, :4], inds
    out = stage(_tensor(np.stack(crops)))
    reg, probs = out[0], out[-1]  # O-Net also gives landmarks, in between
    keep = probs[:, 1] > threshold
    return torch.cat((boxes[keep, :4], probs[keep, 1:2]), dim=1), reg[keep], inds[keep]


def cascade(net: MTCNN, images: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Faces in RGB uint8 images of one size, with the net's own min_face_size, thresholds and
    factor: for each image its boxes (x0, y0, x1, y1) and O-Net's probabilities."""
    height, width = images[0].shape[:2]
    t1, t2, t3 = net.thresholds
    scales = pyramid(height, width, net.min_face_size, net.factor)
    if not scales:  # smaller than the smallest face looked for
        return [(np.zeros((0, 4), np.float32), np.zeros(0, np.float32)) for _ in images]
    boxes, inds = [], []
    with torch.inference_mode():
        level = list(images)  # each level resized from the one before: bilinear at a factor of
        # 0.709 a step averages enough to stay smooth, where one bilinear step from the full image
        # to 1/20 of it would skip most pixels, and OpenCV's INTER_AREA costs 20x as much
        for scale in scales:
            size = (int(width * scale + 1), int(height * scale + 1))
            level = [cv2.resize(im, size, interpolation=cv2.INTER_LINEAR) for im in level]
            reg, probs = _pnet(net.pnet, level)
            found, found_in = generateBoundingBox(reg, probs[:, 1], scale, t1)
            pick = batched_nms(found[:, :4], found[:, 4], found_in, 0.5)
            boxes.append(found[pick])
            inds.append(found_in[pick])
        boxes, inds = torch.cat(boxes), torch.cat(inds)
        pick = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
        boxes, inds = boxes[pick], inds[pick]
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        boxes = torch.stack(
            [
                boxes[:, 0] + boxes[:, 5] * w,
                boxes[:, 1] + boxes[:, 6] * h,
                boxes[:, 2] + boxes[:, 7] * w,
                boxes[:, 3] + boxes[:, 8] * h,
                boxes[:, 4],
            ],
            dim=1,
        )
        boxes = rerec(boxes)
        if len(boxes):  # the second stage: R-Net on 24x24 crops
            boxes, reg, inds = _stage(net.rnet, images, boxes, inds, 24, t2)
            pick = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
            boxes, inds = rerec(bbreg(boxes[pick], reg[pick])), inds[pick]
        if len(boxes):  # the third stage: O-Net on 48x48 crops
            boxes, reg, inds = _stage(net.onet, images, boxes, inds, 48, t3)
            boxes = bbreg(boxes, reg)
            pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], inds, 0.7, "Min")
            boxes, inds = boxes[pick], inds[pick]
    boxes, inds = boxes.numpy(), inds.numpy()
    return [(boxes[inds == i, :4], boxes[inds == i, 4]) for i in range(len(images))]
