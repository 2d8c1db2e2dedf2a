"""Prometheus metrics of a DHT node (names prefixed ``metaspace_``), served on ``/metrics``, ``/healthz``
and ``/readyz``.

Each node process owns one ``Metrics`` with its own registry, so tests can run several in one process.
``Metrics`` is also the connection manager's observer (``p2p.connmgr.ConnEvents``): connections opened,
closed and refused (by reason), and the current counts, are updated as they happen.

``/healthz`` answers 200 ``ok`` or 503 with the reasons, one per line (see ``p2p.health``);
``/readyz`` answers 200 once the routing table holds a contact, else 503 ``not ready: ...``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

#: Buckets of the RPC service time (seconds): a GET served from memory takes ~1 ms, a PUT waits for an
#: fsync (a few ms to tens of ms on a busy disk).
RPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: Buckets of the event-loop lag (seconds).
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: A health check: None if fine, else the reason it is not.
Check = Callable[[], "str | None"]


class Metrics:
    """The counters, gauges and histograms an operator watches."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.peers = Gauge("metaspace_peers", "Contacts in the routing table", registry=r)
        self.connections = Gauge(
            "metaspace_connections", "Established libp2p connections", ["direction"], registry=r
        )
        self.connections_pending = Gauge(
            "metaspace_connections_pending", "Inbound connections still in their handshakes", registry=r
        )
        self.connections_opened = Counter(
            "metaspace_connections_opened", "Connections established", ["direction"], registry=r
        )
        self.connections_closed = Counter(
            "metaspace_connections_closed", "Connections ended", ["direction", "reason"], registry=r
        )
        self.connections_refused = Counter(
            "metaspace_connections_refused",
            "Inbound connections refused or failed before being established, by reason",
            ["reason"],
            registry=r,
        )
        self.streams_refused = Counter(
            "metaspace_streams_refused",
            "Inbound streams reset at once: over the per-connection or the total limit",
            ["reason"],
            registry=r,
        )
        self.records = Gauge("metaspace_records", "Records stored", registry=r)
        self.record_bytes = Gauge("metaspace_record_bytes", "Bytes of records stored", registry=r)
        self.rpcs = Counter(
            "metaspace_rpcs", "DHT RPCs served and sent", ["direction", "type", "outcome"], registry=r
        )
        self.rpc_seconds = Histogram(
            "metaspace_rpc_seconds",
            "Time to serve one DHT request (decode to reply, storage included)",
            ["type"],
            buckets=RPC_BUCKETS,
            registry=r,
        )
        self.refused_records = Counter(
            "metaspace_refused_records", "Records refused by reason", ["reason"], registry=r
        )
        self.rate_limited = Counter("metaspace_rate_limited", "Requests refused by rate limit", registry=r)
        self.bytes_in = Counter("metaspace_bytes_in", "Bytes received on DHT streams", registry=r)
        self.bytes_out = Counter("metaspace_bytes_out", "Bytes sent on DHT streams", registry=r)
        self.loop_lag = Histogram(
            "metaspace_event_loop_lag_seconds",
            "How late the event loop woke a sleeping task",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.storage_errors = Counter(
            "metaspace_storage_errors", "Failed storage transactions", ["what"], registry=r
        )
        self.storage_seconds = Histogram(
            "metaspace_storage_seconds",
            "Time of one storage transaction (in its worker thread)",
            ["what"],
            buckets=RPC_BUCKETS,
            registry=r,
        )
        self.healthy = Gauge("metaspace_healthy", "1 while /healthz answers ok", registry=r)
        self.up = Gauge("metaspace_up", "1 while the node serves", registry=r)
        for direction in ("inbound", "outbound"):
            self.connections.labels(direction=direction).set(0)

    # -- p2p.connmgr.ConnEvents
    def conn_opened(self, direction: str) -> None:
        self.connections_opened.labels(direction=direction).inc()

    def conn_closed(self, direction: str, reason: str) -> None:
        self.connections_closed.labels(direction=direction, reason=reason).inc()

    def conn_refused(self, reason: str) -> None:
        self.connections_refused.labels(reason=reason).inc()

    def conn_current(self, inbound: int, outbound: int, pending_inbound: int) -> None:
        self.connections.labels(direction="inbound").set(inbound)
        self.connections.labels(direction="outbound").set(outbound)
        self.connections_pending.set(pending_inbound)

    def stream_refused(self, reason: str) -> None:
        self.streams_refused.labels(reason=reason).inc()

    # -- p2p.health / storage observers
    def observe_lag(self, seconds: float) -> None:
        self.loop_lag.observe(seconds)

    def observe_rpc(self, mtype: str, seconds: float) -> None:
        self.rpc_seconds.labels(type=mtype).observe(seconds)

    def observe_storage(self, what: str, seconds: float, ok: bool) -> None:
        self.storage_seconds.labels(what=what).observe(seconds)
        if not ok:
            self.storage_errors.labels(what=what).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """A tiny threaded HTTP server for ``/metrics``, ``/healthz`` and ``/readyz`` (bound to the operator's
    address).

    Args:
        metrics: what ``/metrics`` renders.
        host, port: where to listen (port 0: any free port, see ``self.port``).
        health: the reasons the node is unhealthy right now (empty: healthy). Called from the server's
            thread: it must only read state.
        ready: why the node is not ready yet, or None once it is.
    """

    def __init__(
        self,
        metrics: Metrics,
        host: str,
        port: int,
        health: Callable[[], list[str]],
        ready: Callable[[], str | None] = lambda: None,
    ) -> None:
        render = metrics.render

        def healthz() -> tuple[int, bytes]:
            problems = health()
            metrics.healthy.set(0 if problems else 1)
            if problems:
                return 503, ("unhealthy\n" + "".join(f"{p}\n" for p in problems)).encode()
            return 200, b"ok\n"

        def readyz() -> tuple[int, bytes]:
            reason = ready()
            return (503, f"not ready: {reason}\n".encode()) if reason else (200, b"ready\n")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ctype = "text/plain; charset=utf-8"
                if self.path == "/metrics":
                    code, body, ctype = 200, render(), CONTENT_TYPE_LATEST
                elif self.path == "/healthz":
                    code, body = healthz()
                elif self.path == "/readyz":
                    code, body = readyz()
                else:
                    code, body = 404, b"not found\n"
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
