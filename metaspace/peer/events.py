"""The agent's event bus: everything a human should see, fanned out to every open listener (SSE, CLI).

Events are language-neutral dicts (``kind`` plus data); each is also rendered once into the user's
language (``title``, ``text``, ``lang``) by ``metaspace.peer.notify.annotate``. Slow listeners lose the
oldest events rather than slowing the agent down.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import trio

log = logging.getLogger(__name__)

#: Events buffered per listener before the oldest are dropped.
LISTENER_BUFFER = 256
#: Recent events kept for listeners that connect later (and for ``status``).
HISTORY = 200


class EventBus:
    def __init__(self, annotate: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self._annotate = annotate
        self._listeners: set[trio.MemorySendChannel[dict[str, Any]]] = set()
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._seq = 0

    def emit(self, event: dict[str, Any], now: float) -> dict[str, Any]:
        """Stamp, render and deliver ``event``; returns the stamped event."""
        self._seq += 1
        event = {**event, "seq": self._seq, "time": now}
        event.setdefault("event", event.get("kind", "message"))
        if self._annotate is not None:
            try:
                event = self._annotate(event)
            except (KeyError, ValueError, TypeError) as exc:  # a rendering bug must not lose the event
                log.warning("could not render event %s: %r", event.get("kind"), exc)
        self.history.append(event)
        for chan in list(self._listeners):
            try:
                chan.send_nowait(event)
            except trio.WouldBlock:
                log.debug("listener too slow; event %s dropped for it", self._seq)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._listeners.discard(chan)
        return event

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        """Every event from now on, until the caller stops iterating."""
        send, recv = trio.open_memory_channel[dict[str, Any]](LISTENER_BUFFER)
        self._listeners.add(send)
        try:
            async with recv:
                async for event in recv:
                    yield event
        finally:
            self._listeners.discard(send)
            send.close()
