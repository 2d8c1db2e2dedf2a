"""Prometheus metrics of a DHT node (names prefixed ``metaspace_``), served on ``/metrics`` and ``/healthz``.

Each node process owns one ``Metrics`` with its own registry, so tests can run several in one process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    """The counters and gauges an operator watches."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.peers = Gauge("metaspace_peers", "Contacts in the routing table", registry=r)
        self.connections = Gauge("metaspace_connections", "Open libp2p connections", registry=r)
        self.records = Gauge("metaspace_records", "Records stored", registry=r)
        self.record_bytes = Gauge("metaspace_record_bytes", "Bytes of records stored", registry=r)
        self.rpcs = Counter(
            "metaspace_rpcs", "DHT RPCs served and sent", ["direction", "type", "outcome"], registry=r
        )
        self.refused_records = Counter(
            "metaspace_refused_records", "Records refused by reason", ["reason"], registry=r
        )
        self.rate_limited = Counter("metaspace_rate_limited", "Requests refused by rate limit", registry=r)
        self.bytes_in = Counter("metaspace_bytes_in", "Bytes received on DHT streams", registry=r)
        self.bytes_out = Counter("metaspace_bytes_out", "Bytes sent on DHT streams", registry=r)
        self.up = Gauge("metaspace_up", "1 while the node serves", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """A tiny threaded HTTP server for ``/metrics`` and ``/healthz`` (bound to the operator's address)."""

    def __init__(self, metrics: Metrics, host: str, port: int, healthy: Callable[[], bool]) -> None:
        render, is_healthy = metrics.render, healthy

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    body, ctype, code = render(), CONTENT_TYPE_LATEST, 200
                elif self.path == "/healthz":
                    ok = is_healthy()
                    body, ctype, code = (b"ok\n" if ok else b"unhealthy\n"), "text/plain", 200 if ok else 503
                else:
                    body, ctype, code = b"not found\n", "text/plain", 404
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
