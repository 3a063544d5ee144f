"""One worker thread that classifies whatever uploads are waiting, together, in one batch.

Why one thread: PyTorch (and onnxruntime) already spread one batch over every core, so several
threads calling the model at once only fight over the same cores and multiply its working
memory. Why batches: under a burst, uploads pile up while the worker is busy, and the next call
takes them all, as `expressions predict` takes a chunk of files: MTCNN runs same-sized photos in
one pass and the classifier sees all their faces at once. A batch stops at `pixel_budget`
decoded pixels, so a few huge photos are never held decoded at the same time.

How many uploads may wait is bounded by the caller (web.py counts them before reading their
bytes), so this queue itself needs no bound.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_STOP = object()  # put on the queue to end the worker


@dataclass
class Job:
    path: Path  # the upload, written to a file that predict() reads
    pixels: int  # width x height from its header: what decoding it will hold in memory
    future: Future = field(default_factory=Future)


class Batcher:
    """`run(paths)` on the worker thread, for up to `batch` waiting jobs at a time, in order."""

    def __init__(
        self, run: Callable[[list[Path]], list[Any]], batch: int, pixel_budget: int
    ) -> None:
        self.run, self.batch, self.pixel_budget = run, batch, pixel_budget
        self._queue: queue.Queue[Any] = queue.Queue()  # Jobs, then _STOP
        self._thread = threading.Thread(target=self._work, name="expressions-predict", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch in hand, then end; jobs still waiting are cancelled."""
        self._queue.put(_STOP)
        self._thread.join()
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if job is not _STOP:
                job.future.cancel()

    def submit(self, path: Path, pixels: int) -> Future:
        job = Job(path, pixels)
        self._queue.put(job)
        return job.future

    def _work(self) -> None:
        carry: Any = None
        while True:
            first = self._queue.get() if carry is None else carry
            carry = None
            if first is _STOP:
                return
            jobs, pixels = [first], first.pixels
            while len(jobs) < self.batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP or pixels + job.pixels > self.pixel_budget:
                    carry = job  # the next batch starts with it (or the worker stops)
                    break
                jobs.append(job)
                pixels += job.pixels
            self._run([j for j in jobs if j.future.set_running_or_notify_cancel()])

    def _run(self, jobs: list[Job]) -> None:
        """Results to their jobs; an exception goes to every job of the batch, and the worker
        lives on to serve the next one."""
        if not jobs:
            return
        try:
            results = self.run([j.path for j in jobs])
        except Exception as err:
            for job in jobs:
                job.future.set_exception(err)
            return
        for job, result in zip(jobs, results, strict=True):
            job.future.set_result(result)
