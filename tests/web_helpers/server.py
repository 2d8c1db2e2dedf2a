"""Serve an ASGI app with hypercorn's trio worker on 127.0.0.1 in a background thread (tests only).

``ServedApp`` starts ``trio.run`` in a daemon thread, lets hypercorn bind an ephemeral port on the
loopback interface, and exposes ``url``, ``run_sync(fn, *args)`` (call ``fn`` inside the server's
trio thread, e.g. to make a fake service emit an event) and ``close()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import trio
import trio.from_thread
from hypercorn.config import Config
from hypercorn.trio import serve

T = TypeVar("T")

#: Static assets of the web page and their content types (what ``GET /static/<name>`` serves).
STATIC_TYPES = {
    "core.js": "text/javascript; charset=utf-8",
    "trust.js": "text/javascript; charset=utf-8",
    "lists.js": "text/javascript; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
STARTUP_TIMEOUT_S = 10.0


class ServedApp:
    """An ASGI app served over real HTTP on 127.0.0.1 (ephemeral port) from a trio thread."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._error: BaseException | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._run, name="web-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT_S):
            raise RuntimeError("the test HTTP server did not start")
        if self._error is not None:
            raise RuntimeError("the test HTTP server failed to start") from self._error

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # reported to the test thread by __init__ / close
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        config = Config()
        config.bind = ["127.0.0.1:0"]
        config.graceful_timeout = 0.2
        config.accesslog = None
        config.errorlog = None
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                lambda task_status: serve(
                    self._app,
                    config,
                    shutdown_trigger=self._stop.wait,
                    task_status=task_status,  # type: ignore[union-attr]
                )
            )
            self.url = binds[0]
            self._ready.set()

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` in the server's trio thread and return its result."""
        assert self._token is not None
        return trio.from_thread.run_sync(fn, *args, trio_token=self._token)

    def close(self) -> None:
        """Stop serving (gracefully, open event streams are cut) and join the thread."""
        if self._token is not None and self._stop is not None and self._thread.is_alive():
            trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(timeout=10)
