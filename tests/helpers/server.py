"""The web app on a real uvicorn server, in a thread, on a free loopback port.

A real server (not an in-process test client) is what the browser talks to, and what shows how
uvicorn passes raw paths such as `/static/../x` and early refusals of large uploads.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL, http://127.0.0.1:<port>."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the port is ours from here on: no race with other tests
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
