"""Faces followed through a video: a search every few frames, boxes carried in between, each
person's id kept by ByteTrack (supervision's), and each track's probabilities smoothed.

Why: MTCNN costs far more per 640x480 frame than classifying its faces with the fast model, so a
video whose every frame is searched runs at the detector's pace. Between two searches a face
moves a few pixels: its last box moved by its last velocity crops it well enough to classify.

The rules a user can rely on (tests/test_tracking.py holds each):
- a face gets its id at the first search that finds it (ByteTrack's own output holds a new
  track back until a second search confirms it; here its first box counts);
- a face that a search misses, or that leaves the frame, gets its old id back when a search finds
  it again near where its track was heading within `lost_after_s` seconds; otherwise a new id;
- a cut (a frame whose 32x32 grey thumbnail differs from the last frame's by more than `cut` on
  average, 0-1) ends every track: that frame is searched and its faces get new ids;
- smoothing is an exponential moving average of a track's probabilities, `smooth` the weight of
  the newest frame (1 = none); a track starts from its first frame's probabilities and, found
  again after a miss, goes on from where its average was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from expressions.core.errors import PredictionError
from expressions.serving.detect import Box

THUMBNAIL = 32  # side of the grey thumbnail two frames are compared on to find a cut
MIN_IOU = 0.5  # a search's box is the track ByteTrack updated with it when they overlap this much


@dataclass(frozen=True)
class TrackOptions:
    """How `expressions predict` follows faces through a video (--search-every, --smooth)."""

    search_every_s: float = 0.2  # video time between full searches (every 6th frame at 30 fps)
    smooth: float = 0.5  # the newest frame's weight in each track's moving average; 1 = none
    lost_after_s: float = 1.0  # a face unseen for longer gets a new id when it comes back
    cut: float = 0.12  # mean grey difference (0-1) of consecutive thumbnails that starts a scene


@dataclass(frozen=True)
class Step:
    """What one video frame needs, decided before the frames of a chunk are searched together."""

    search: bool
    cut: bool


@dataclass
class _Track:
    box: Box  # where the last search found it
    frame: int  # that search's frame index
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels per frame, of the box's corner


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A THUMBNAIL-sided grey picture of the frame, 0-1: OpenCV's area average,
    half a millisecond a frame where numpy's block mean took 8 (videos are read with OpenCV, so it is there)."""
    import cv2

    small = cv2.resize(image, (THUMBNAIL, THUMBNAIL), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    return (small.mean(axis=2) if small.ndim == 3 else small) / 255


class VideoTracks:
    """One video's faces over time. Call `step` for every frame in order (it decides whether the
    frame is searched), then `follow` for every frame in the same order with the boxes a search
    found (None for a frame that was not searched), then `smooth` for each face classified."""

    def __init__(self, fps: float | None, options: TrackOptions, every: int = 1) -> None:
        self.options = options
        self.fps = fps if fps and fps > 0 else 30.0  # a file that states none: a camera's rate
        self.every = every  # predict's --every: the frames read are `every` frames apart
        self._searched: int | None = None  # the index of the last frame searched
        self._last: np.ndarray | None = None
        self._ids_before = 0  # ids used by earlier scenes: ids never repeat within a video
        self._top = 0  # the highest id given so far
        self._tracks: dict[int, _Track] = {}  # found by the last search: carried until the next
        self._smoothed: dict[int, np.ndarray] = {}
        self._tracker = self._new_tracker()

    def _new_tracker(self):
        try:
            import supervision as sv
        except ImportError:
            raise PredictionError(
                "following faces through a video needs supervision's ByteTrack: pip install "
                "--no-deps supervision==0.26.1 defusedxml (with scipy and matplotlib)"
            ) from None

        between = max(self.options.search_every_s, self.every / self.fps)  # seconds per search
        return sv.ByteTrack(  # which counts its updates, not seconds
            lost_track_buffer=max(1, math.ceil(self.options.lost_after_s / between)),
            frame_rate=30,  # its buffer is lost_track_buffer * frame_rate / 30 updates
        )

    def step(self, image: np.ndarray, index: int) -> Step:
        small = thumbnail(image)
        cut = (
            self._last is not None
            and small.shape == self._last.shape
            and float(np.abs(small - self._last).mean()) > self.options.cut
        )
        self._last = small
        since = None if self._searched is None else (index - self._searched) / self.fps
        search = cut or since is None or since >= self.options.search_every_s - 1e-6
        if search:
            self._searched = index
        return Step(search, cut)

    def follow(
        self, step: Step, index: int, found: list[Box] | None, shape: tuple[int, ...]
    ) -> list[tuple[int | None, Box]]:
        """The faces of frame `index` with their track ids: the search's boxes where it was
        searched, else each track's box moved on by its velocity."""
        if step.cut:
            self._ids_before = self._top
            self._tracks = {}
            self._tracker = self._new_tracker()
        if found is None:
            return [(tid, _moved(t, index, shape)) for tid, t in self._tracks.items()]
        ids = self._assign(found)
        tracks: dict[int, _Track] = {}
        for tid, box in zip(ids, found, strict=True):
            if tid is None:
                continue
            old = self._tracks.get(tid)
            track = _Track(box, index)
            if old is not None and index > old.frame:
                gap = index - old.frame
                track.velocity = ((box.x - old.box.x) / gap, (box.y - old.box.y) / gap)
            tracks[tid] = track
        self._tracks = tracks  # the others are ByteTrack's to find again, not ours to carry
        return list(zip(ids, found, strict=True))

    def _assign(self, found: list[Box]) -> list[int | None]:
        """ByteTrack's id for each box; None for a box it would not start a track from."""
        import supervision as sv
        from scipy.optimize import linear_sum_assignment

        if not found:
            self._tracker.update_with_tensors(np.zeros((0, 5), np.float32))
            return []
        boxes = np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in found], np.float32)
        scores = np.array([1.0 if math.isnan(b.score) else min(b.score, 1.0) for b in found])
        self._tracker.update_with_tensors(np.column_stack([boxes, scores]))
        now = self._tracker.frame_id
        live = [t for t in self._tracker.tracked_tracks if t.frame_id == now]  # new ones too
        if not live:
            return [None] * len(found)
        cost = 1 - sv.box_iou_batch(boxes, np.array([t.tlbr for t in live], np.float32))
        ids: list[int | None] = [None] * len(found)
        for d, t in zip(*linear_sum_assignment(cost), strict=True):
            if cost[d, t] <= 1 - MIN_IOU and live[t].external_track_id > 0:
                ids[d] = self._ids_before + int(live[t].external_track_id)
                self._top = max(self._top, ids[d])
        return ids

    def smooth(self, track: int | None, proba: np.ndarray) -> np.ndarray:
        """The track's moving average after this frame's probabilities (frames in order)."""
        if track is None:
            return proba
        held = self._smoothed.get(track)
        alpha = self.options.smooth
        self._smoothed[track] = proba if held is None else alpha * proba + (1 - alpha) * held
        return self._smoothed[track]


def _moved(track: _Track, index: int, shape: tuple[int, ...]) -> Box:
    """The track's last box moved on by its velocity to frame `index`, kept inside the image."""
    gap = index - track.frame
    b = track.box
    x = min(max(0, round(b.x + track.velocity[0] * gap)), max(0, shape[1] - b.w))
    y = min(max(0, round(b.y + track.velocity[1] * gap)), max(0, shape[0] - b.h))
    return Box(x, y, b.w, b.h, b.score)
