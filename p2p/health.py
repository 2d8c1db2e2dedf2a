"""Honest health of a running node: is it really serving?

Theory of operation
-------------------
``/healthz`` must fail when the node cannot do its job, whatever its process looks like from outside.
Three things are watched, each by the party that can see it:

* **The listener accepts.** Every ``PROBE_INTERVAL`` a probe opens a TCP connection to our own listen
  address from a local port it first announces to the connection manager (``expect_probe``); admission
  recognises it, marks it seen and closes it, uncounted. If it is not seen within ``PROBE_TIMEOUT`` (the
  accept loop is stuck, out of file descriptors, the listener is gone) or a socket cannot even be
  opened (``EMFILE``), the listener is reported failing until a later probe succeeds.
* **The event loop is responsive.** A task sleeps ``LAG_INTERVAL`` in a loop and measures how late it
  wakes (the lag), feeding the metrics. The HTTP server's own thread (not the event loop: a blocked loop
  could not answer) reads the last heartbeat: a loop that has not beaten for ``lag_threshold`` seconds
  is stalled *now*; a lag above the threshold within the last ``LAG_WINDOW`` seconds is reported too.
* **Storage writes succeed.** The storage backend reports every transaction; the last one of each kind
  failing is a problem until one succeeds.

``problems()`` is called from the HTTP thread and only reads attributes written by the trio thread.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import multiaddr
import trio

from p2p.addrs import ip_of

log = logging.getLogger(__name__)

#: How often the lag task wakes.
LAG_INTERVAL = 0.25
#: A loop that lags (or has not beaten for) longer than this is unhealthy.
DEFAULT_LAG_THRESHOLD = 2.0
#: How long a lag spike keeps the node reported unhealthy.
LAG_WINDOW = 30.0
#: How often the listener is probed, and how long a probe may take.
PROBE_INTERVAL = 10.0
PROBE_TIMEOUT = 5.0


class HealthObserver(Protocol):
    """Metrics fed by the health monitor (``bootstrap.metrics.Metrics``)."""

    def observe_lag(self, seconds: float) -> None: ...

    def observe_storage(self, what: str, seconds: float, ok: bool) -> None: ...


class ProbeTarget(Protocol):
    """What the listener probe needs of a host (``P2PHost``)."""

    def bound_addrs(self) -> list[str]: ...

    @property
    def connmgr(self) -> Any: ...


class Health:
    """The health monitor of one node (see the module docstring).

    Args:
        lag_threshold: seconds of event-loop lag (or stall) that make the node unhealthy.
        observer: metrics to feed (optional).
        clock: the HTTP thread's clock (tests may pass their own).
    """

    def __init__(
        self,
        lag_threshold: float = DEFAULT_LAG_THRESHOLD,
        observer: HealthObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lag_threshold = lag_threshold
        self.observer = observer
        self._clock = clock
        self._beat: float | None = None
        self._lags: deque[tuple[float, float]] = deque()
        self._listener_problem: str | None = None
        self._storage_problems: dict[str, str] = {}
        self.probes_ok = 0
        self.probes_failed = 0

    # ------------------------------------------------------------------------------------ running

    async def run(
        self, host: ProbeTarget | None = None, *, task_status: Any = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Watch the event loop (and the listener of ``host``, if given) until cancelled."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._watch_lag)
            if host is not None:
                nursery.start_soon(self._watch_listener, host)
            task_status.started()

    async def _watch_lag(self) -> None:
        self._beat = self._clock()
        while True:
            before = trio.current_time()
            await trio.sleep(LAG_INTERVAL)
            lag = max(0.0, trio.current_time() - before - LAG_INTERVAL)
            now = self._clock()
            self._beat = now
            self._lags.append((now, lag))
            while self._lags and self._lags[0][0] < now - LAG_WINDOW:
                self._lags.popleft()
            if self.observer is not None:
                self.observer.observe_lag(lag)

    async def _watch_listener(self, host: ProbeTarget) -> None:
        while True:
            problem = await probe_listener(host)
            if problem is None:
                self.probes_ok += 1
            else:
                self.probes_failed += 1
                if self._listener_problem is None:
                    log.warning("health: %s", problem)
            self._listener_problem = problem
            await trio.sleep(PROBE_INTERVAL)

    # ------------------------------------------------------------------------------------ storage

    def storage_result(self, what: str, seconds: float, error: str | None) -> None:
        """``p2p.storage.StorageObserver``: a transaction of kind ``what`` succeeded or failed."""
        if error is None:
            self._storage_problems.pop(what, None)
        else:
            self._storage_problems[what] = error
        if self.observer is not None:
            self.observer.observe_storage(what, seconds, error is None)

    # ------------------------------------------------------------------------------------ verdict

    def problems(self) -> list[str]:
        """Why the node is unhealthy right now (empty: healthy). Safe to call from another thread."""
        out: list[str] = []
        beat = self._beat
        now = self._clock()
        limit = f"(threshold {self.lag_threshold:g} s)"
        if beat is not None and now - beat > self.lag_threshold + LAG_INTERVAL:
            out.append(f"event loop stalled: no heartbeat for {now - beat:.1f} s {limit}")
        worst = max((lag for t, lag in list(self._lags) if t >= now - LAG_WINDOW), default=0.0)
        if worst > self.lag_threshold:
            out.append(f"event loop lagged {worst:.1f} s within the last {LAG_WINDOW:g} s {limit}")
        listener = self._listener_problem
        if listener is not None:
            out.append(listener)
        for what, error in list(self._storage_problems.items()):
            out.append(f"storage writes failing ({what}): {error}")
        return out


def _probe_address(host: ProbeTarget) -> tuple[str, int, int] | None:
    """(ip, port, address family) to probe: the first bound TCP address (unspecified -> loopback)."""
    for text in host.bound_addrs():
        maddr = multiaddr.Multiaddr(text)
        ip = ip_of(maddr)
        try:
            port = int(maddr.value_for_protocol("tcp"))
        except Exception:  # not a TCP address
            continue
        if ip is None:
            continue
        if ip.is_unspecified:
            ip = ipaddress.ip_address("127.0.0.1" if ip.version == 4 else "::1")
        family = trio.socket.AF_INET if ip.version == 4 else trio.socket.AF_INET6
        return str(ip), port, family
    return None


async def probe_listener(host: ProbeTarget, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Connect to our own listener and check that its admission saw us. Returns None if it did, else the
    problem (no socket, refused, not accepted in time)."""
    target = _probe_address(host)
    if target is None:
        return "listener: no TCP listen address"
    ip, port, family = target
    try:
        sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
    except OSError as exc:
        return f"listener: cannot open a socket to probe it: {exc}"
    local: tuple[str, int] | None = None
    try:
        with trio.move_on_after(timeout):
            await sock.bind((ip, 0))
            local = sock.getsockname()[:2]
            host.connmgr.expect_probe(local)
            try:
                await sock.connect((ip, port))
            except OSError as exc:
                return f"listener on {ip}:{port} refuses connections: {exc}"
            while not host.connmgr.probe_seen(local):
                await trio.sleep(0.02)
            return None
        return f"listener on {ip}:{port} did not accept a connection within {timeout:g} s"
    except OSError as exc:
        return f"listener: probing it failed: {exc}"
    finally:
        sock.close()
        if local is not None:
            host.connmgr.forget_probe(local)


__all__ = ["DEFAULT_LAG_THRESHOLD", "LAG_INTERVAL", "PROBE_INTERVAL", "Health", "probe_listener"]
