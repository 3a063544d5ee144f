"""The page's webcam as a video: each webcam session's frames followed by their own VideoTracks,
so a person keeps one id from frame to frame and their label is smoothed as `predict` smooths a
video's. Every frame the page sends is searched (it sends the next one when the answer is back,
a few a second), so only ids and smoothing come from tracking.py here.

Bounded in memory and time: at most `most` sessions, each forgotten after `idle_s` without a
frame (or when a newer one needs its place), so a page closed mid-stream costs nothing for long.
Only the batcher's one worker thread calls `follow`: no lock is needed.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from expressions.serving.detect import Box
from expressions.serving.tracking import Step, TrackOptions, VideoTracks

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what the page sends: a random id per webcam start
WEBCAM_FPS = 5.0  # about the pace the page gets on a 2-core CPU: ids survive ~1 s unseen
ONLY_IDS = TrackOptions(search_every_s=0)  # every frame sent is searched


@dataclass
class _Session:
    tracks: VideoTracks
    frames: int = 0
    used: float = 0.0


class Sessions:
    def __init__(self, most: int = 16, idle_s: float = 60.0) -> None:
        self.most, self.idle_s = most, idle_s
        self._held: OrderedDict[str, _Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def _session(self, name: str) -> _Session:
        now = time.monotonic()
        for old in [k for k, s in self._held.items() if now - s.used > self.idle_s]:
            del self._held[old]
        held = self._held.pop(name, None) or _Session(VideoTracks(WEBCAM_FPS, ONLY_IDS))
        while len(self._held) >= self.most:
            self._held.popitem(last=False)  # the longest unused
        held.used = now
        self._held[name] = held
        return held

    def follow(self, name: str, rows: list[dict[str, Any]], classes: list[str]) -> None:
        """Give each face row of this session's next frame its track id and smoothed
        probabilities (in place)."""
        session = self._session(name)
        index, session.frames = session.frames, session.frames + 1
        faces = [r for r in rows if r["face"] is not None]
        boxes = [Box(r["x"], r["y"], r["w"], r["h"], r["score"] or 1.0) for r in faces]
        searched = Step(search=True, cut=False)  # so no box is carried: no frame shape is needed
        ids = session.tracks.follow(searched, index, boxes, (0, 0))
        for row, (track, _) in zip(faces, ids, strict=True):
            p = np.array([row[f"p_{c}"] for c in classes])
            smoothed = session.tracks.smooth(track, p)
            row["track"] = track
            row.update(
                {f"p_{c}": round(float(v), 6) for c, v in zip(classes, smoothed, strict=True)}
            )
            row["predicted"] = classes[int(np.argmax(smoothed))]
