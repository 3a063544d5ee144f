"""The web page and HTTP API of `expressions serve`: GET / (the page), GET /health, POST /predict
(a photo, or a webcam frame), POST /video (web_video.py).

An upload is refused as early as it can be, before it costs memory or CPU: the declared length,
then the bytes actually read (a chunked upload declares none), then the pixel count from the
image header (Pillow reads only the header on open), and only then is it decoded, by the same
`predict()` that `expressions predict` runs, so both give the same rows. At most
`Limits.waiting` uploads are held at once, counted before their bytes are read: a burst gets a
quick 503 instead of growing memory without bound. The model runs on one worker thread
(batcher.py says why).

Every answer that is not a result is JSON `{"error": "<one sentence>"}`; a bug is a 500 with a
sentence (its traceback goes to the server's log, not to the client) and the server goes on.

The page's files are a fixed whitelist read into memory when the app is made: no route maps a
URL onto the file system, so no `..` in a URL can reach a file. FastAPI's docs pages are off:
they load scripts from a CDN, and this page must work without internet.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from expressions.data.images import header_size
from expressions.release.card import ModelInfo
from expressions.serving.batcher import Batcher
from expressions.serving.classifier import Classifier
from expressions.serving.detect import MARGIN, Detector
from expressions.serving.limits import Limits
from expressions.serving.output import record, to_json
from expressions.serving.predict import predict
from expressions.serving.sessions import NAME, Sessions
from expressions.serving.web_video import add_video_route

DEFAULT_LIMITS = Limits()
FIELD = "image"  # the multipart field that carries the photo
SESSION = "session"  # the field naming the webcam session a frame belongs to (sessions.py)
FORM_OVERHEAD = 64 * 1024  # boundaries and part headers allowed on top of the photo itself
ASSETS = {  # URL -> (file under page/, content type): everything the page loads
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}


class Refused(Exception):
    """A request this server will not process: an HTTP status and one sentence saying why."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status


def _megabytes(n: float) -> str:
    return f"{n / 1e6:.3g} MB"


Receive = Callable[[], Awaitable[dict]]


def _capped(receive: Receive, cap: int, limit: int) -> Receive:
    """The ASGI `receive` that refuses the request once more than `cap` bytes have arrived."""
    seen = 0

    async def wrapped() -> dict:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise Refused(413, f"The upload is over this server's limit of {_megabytes(limit)}.")
        return message

    return wrapped


async def read_upload(
    request: Request, limit: int, field: str = FIELD
) -> tuple[str, bytes, str | None]:
    """The file's name and bytes from a multipart form (the photo in `image`, a video in
    `video`), read no further than `limit`, and the webcam session a photo is the next frame of
    (a `session` field), if any."""
    what = "photo" if field == FIELD else field
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Refused(
            415, f"Send the {what} as multipart/form-data, in a file field named '{field}'."
        )
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit + FORM_OVERHEAD:
        raise Refused(
            413,
            f"The upload is {_megabytes(declared)}, over this server's limit of {_megabytes(limit)}.",
        )
    capped = Request(request.scope, _capped(request.receive, limit + FORM_OVERHEAD, limit))
    try:
        form = await capped.form(max_files=1, max_fields=4)
    except ClientDisconnect:
        raise Refused(400, "The connection closed before the upload ended.") from None
    try:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise Refused(400, f"The form has no file in a field named '{field}'.")
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1] or "upload"
        if (upload.size or 0) > limit:
            raise Refused(
                413, f"{name} is {_megabytes(upload.size)}, over this server's limit of "
                f"{_megabytes(limit)}."
            )  # fmt: skip
        data = await upload.read()
        session = form.get(SESSION)
        if session is not None and not (isinstance(session, str) and NAME.fullmatch(session)):
            raise Refused(400, f"The '{SESSION}' field is 1-64 letters, digits, - or _.")
    finally:
        await form.close()  # the spooled file, if any
    if not data:
        raise Refused(400, f"{name} is empty.")
    return name, data, session


def pixel_count(name: str, data: bytes, max_pixels: int) -> int:
    """Width x height from the image header, or Refused if it is no image or too large."""
    limit = f"this server's limit of {max_pixels / 1e6:g} megapixels"
    try:
        size = header_size(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise Refused(
            400, f"{name} has more pixels than can be decoded safely, over {limit}."
        ) from None
    if size is None:
        raise Refused(400, f"{name} is not an image this server can read (try JPEG or PNG).")
    width, height, _ = size
    if width * height > max_pixels:
        raise Refused(
            400, f"{name} is {width}x{height} pixels ({width * height / 1e6:.3g} megapixels), "
            f"over {limit}."
        )  # fmt: skip
    return width * height


def _error(status: int, sentence: str) -> JSONResponse:
    return JSONResponse({"error": sentence}, status)


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own refusals (unknown URL, wrong method, a malformed form) as sentences."""
    if exc.status_code == 404:
        return _error(404, "There is nothing at this address; the page is at /.")
    if exc.status_code == 405:
        return _error(405, f"This address does not take a {request.method} request.")
    detail = str(exc.detail).rstrip(".")
    return _error(exc.status_code, f"{detail}.")


def _bug(request: Request, exc: Exception) -> JSONResponse:
    return _error(
        500,
        f"The server failed on this request ({type(exc).__name__}); the details are in its "
        "log, and it goes on serving.",
    )


def make_app(
    classifier: Classifier,
    detector: Detector,
    info: ModelInfo,
    limits: Limits = DEFAULT_LIMITS,
    margin: float = MARGIN,
) -> FastAPI:
    """The app for one loaded model and detector; the worker runs while the app is served."""
    page = resources.files("expressions.serving") / "page"
    assets = {url: (page.joinpath(name).read_bytes(), kind) for url, (name, kind) in ASSETS.items()}
    classes = classifier.classes

    sessions, session_of = Sessions(), {}  # webcam sessions; an upload's path -> its session

    def classify(paths: list[Path]) -> list[tuple[str | None, list[dict[str, Any]]]]:
        """Per upload: why it could not be decoded (or None) and its rows, as predict gives;
        a webcam frame's rows carry their person's track id and smoothed probabilities."""
        found = predict(
            paths, classifier, detector, chunk=len(paths), margin=margin, progress=False
        )
        out = []
        for path, (f, rows) in zip(paths, found, strict=True):
            records = [record(r, classes) for r in rows]
            if f.image is not None and path in session_of:
                sessions.follow(session_of[path], records, list(classes))
            out.append((f.note if f.image is None else None, records))
        return out

    batcher = Batcher(classify, limits.batch, limits.max_pixels)
    held = 0  # uploads in hand; only the event loop's thread changes it

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with tempfile.TemporaryDirectory(prefix="expressions-serve-") as folder:
            app.state.uploads = Path(folder)
            batcher.start()
            try:
                yield
            finally:
                batcher.stop()

    app = FastAPI(
        title="expressions", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_exception_handler(Refused, lambda _, e: _error(e.status, str(e)))
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _bug)

    def asset(url: str) -> None:
        body, kind = assets[url]

        async def send() -> Response:
            return Response(body, media_type=kind)

        app.add_api_route(url, send, methods=["GET"])

    for url in assets:
        asset(url)

    add_video_route(app, classifier, detector, limits, margin, read_upload, Refused)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            **asdict(info),
            "limits": {
                "max_bytes": limits.max_bytes,
                "max_pixels": limits.max_pixels,
                "video_bytes": limits.video_bytes,
                "video_s": limits.video_s,
            },
        }

    @app.post("/predict")
    async def predict_upload(request: Request) -> Response:
        nonlocal held
        if held >= limits.waiting:
            raise Refused(503, f"The server is busy with {held} photos; try again in a moment.")
        held += 1
        path = request.app.state.uploads / f"{uuid.uuid4().hex}.upload"  # never a video suffix
        try:
            name, data, session = await read_upload(request, limits.max_bytes)
            pixels = pixel_count(name, data, limits.max_pixels)
            await asyncio.to_thread(path.write_bytes, data)
            del data  # on disk now: a queue of uploads holds no photo in memory
            if session is not None:
                session_of[path] = session
            note, rows = await asyncio.wrap_future(batcher.submit(path, pixels))
        finally:
            held -= 1
            session_of.pop(path, None)
            path.unlink(missing_ok=True)
        if note is not None:
            raise Refused(
                400, f"{name} could not be decoded ({note.removeprefix('unreadable: ')})."
            )
        for row in rows:
            row["source"] = name
        return Response(to_json(rows, classes), media_type="application/json")

    return app
