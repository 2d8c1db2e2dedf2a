"""The bootstrap node service: ``metaspace bootstrap --listen ... --data-dir DIR [--metrics HOST:PORT]``.

A long-running DHT node for operators: a persistent identity (``DIR/node.key``, 0600), records and the
routing table in SQLite (WAL, fsync before acknowledging), Prometheus metrics, per-peer rate limits and
storage caps, and a graceful shutdown on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import trio

from bootstrap.metrics import Metrics, MetricsServer
from bootstrap.relay import RelayMetrics, relay_limits_from_args
from dht.config import DhtConfig
from p2p.autonat import AutoNatServer
from p2p.connmgr import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_MAX_INBOUND,
    DEFAULT_MAX_PER_IP,
    DEFAULT_PER_IP_EXEMPT,
    ConnLimits,
)
from p2p.dht_driver import config_from_env
from p2p.dht_node import DhtNodeOptions, open_dht_node
from p2p.host import P2PError
from p2p.relay import RelayService
from p2p.runner import run_until_signal
from wire.identity import SEED_LEN, Identity

log = logging.getLogger("metaspace.bootstrap")

KEY_FILE = "node.key"
MULTIADDR_FILE = "multiaddr"
#: Where the metrics server's actual ``host:port`` is written (``--metrics 127.0.0.1:0`` picks a port).
METRICS_FILE = "metrics"
DB_FILE = "dht.sqlite"
DEFAULT_MAX_CONNECTIONS = DEFAULT_MAX_INBOUND
DEFAULT_RATE = 50.0
DEFAULT_MAX_RECORDS = 1_000_000
DEFAULT_MAX_BYTES = 1 << 30


class ServiceError(Exception):
    """A configuration or start-up problem to show the operator (no traceback)."""


def load_or_create_key(path: Path) -> Identity:
    """The node's identity from ``path``, created (mode 0600, atomically) on first run.

    Raises:
        ServiceError: the file exists but is not a 32-byte key, or is readable by others.
    """
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ServiceError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
        seed = path.read_bytes()
        if len(seed) != SEED_LEN:
            raise ServiceError(f"{path} is not a node key ({len(seed)} bytes, expected {SEED_LEN})")
        return Identity(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, os.urandom(SEED_LEN))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return Identity(path.read_bytes())


def _opt(args: argparse.Namespace, name: str, default: float) -> float:
    value = getattr(args, name, None)
    return default if value is None else value


def _parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ServiceError(f"--metrics wants HOST:PORT, got {text!r}")
    return host, int(port)


async def serve(args: argparse.Namespace, *, task_status: object = trio.TASK_STATUS_IGNORED) -> None:
    """Run the bootstrap node until cancelled."""
    data_dir = Path(args.data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    identity = load_or_create_key(data_dir / KEY_FILE)
    max_records = _opt(args, "max_records", DEFAULT_MAX_RECORDS)
    max_bytes = _opt(args, "max_bytes", DEFAULT_MAX_BYTES)
    rate = float(_opt(args, "rate", DEFAULT_RATE))
    max_connections = _opt(args, "max_connections", DEFAULT_MAX_CONNECTIONS)
    max_per_ip = _opt(args, "max_per_ip", DEFAULT_MAX_PER_IP)
    handshake_timeout = _opt(args, "handshake_timeout", DEFAULT_HANDSHAKE_TIMEOUT)
    if min(max_records, max_bytes, rate, max_connections, max_per_ip, handshake_timeout) <= 0:
        raise ServiceError(
            "--max-records, --max-bytes, --rate, --max-connections, --max-per-ip and --handshake-timeout"
            " must be positive"
        )
    exempt = getattr(args, "per_ip_exempt", None)
    exempt = DEFAULT_PER_IP_EXEMPT if exempt is None else tuple(n for n in exempt if n != "none")
    try:
        limits = ConnLimits(
            max_inbound=int(max_connections), max_per_ip=int(max_per_ip), handshake_timeout=handshake_timeout,
            per_ip_exempt=exempt,
        )  # fmt: skip
    except ValueError as exc:
        raise ServiceError(f"--per-ip-exempt: {exc}") from exc
    config = config_from_env(DhtConfig(max_records=int(max_records), max_bytes=int(max_bytes)))
    metrics = Metrics()
    options = DhtNodeOptions(
        db_path=data_dir / DB_FILE, listen=[args.listen], config=config, limits=limits, rate=rate,
        announce=list(getattr(args, "announce", None) or ()),
        seeds=list(getattr(args, "bootstrap", None) or ()),
        sender_quota=getattr(args, "max_records_per_peer", None), metrics=metrics,
    )  # fmt: skip
    if options.sender_quota is not None and options.sender_quota < 1:
        raise ServiceError("--max-records-per-peer must be positive")
    try:
        relay_limits = relay_limits_from_args(args) if getattr(args, "relay", False) else None
    except ValueError as exc:
        raise ServiceError(f"--relay-*: {exc}") from exc
    metrics_server: MetricsServer | None = None
    try:
        async with open_dht_node(identity, options) as running:
            addr = running.host.addrs()[0]
            AutoNatServer(running.host).start()  # agents ask "am I reachable?" (p2p.autonat)
            if relay_limits is not None:  # --relay: circuit relay v2 for agents behind NAT (p2p.relay)
                relay_metrics = RelayMetrics(metrics.registry)
                relay = RelayService(running.host, relay_limits, observer=relay_metrics)
                relay_metrics.attach(relay)
                relay.start()
                log.info("relaying for agents behind NAT: %s", relay_limits)
            (data_dir / MULTIADDR_FILE).write_text(addr + "\n")
            if args.metrics:
                mhost, mport = _parse_hostport(args.metrics)
                metrics_server = MetricsServer(
                    metrics, mhost, mport, health=running.health.problems, ready=running.not_ready
                )
                metrics_server.start()
                (data_dir / METRICS_FILE).write_text(f"{mhost}:{metrics_server.port}\n")
            metrics.up.set(1)
            print(addr, flush=True)
            log.info(
                "bootstrap node %s: %d records restored, %d contacts",
                addr, running.restored, len(running.node.table),
            )  # fmt: skip
            if hasattr(task_status, "started"):
                task_status.started()  # type: ignore[attr-defined]
            await trio.sleep_forever()
    finally:
        metrics.up.set(0)
        if metrics_server is not None:
            metrics_server.close()


def run(args: argparse.Namespace) -> int:
    """Entry point of ``metaspace bootstrap``: serve until SIGTERM/SIGINT, then exit 0."""
    logging.basicConfig(
        level=logging.INFO if not getattr(args, "verbose", False) else logging.DEBUG,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("libp2p").setLevel(logging.WARNING)

    failures = run_until_signal(lambda: serve(args), (ServiceError, P2PError))
    for exc in failures:
        print(f"metaspace bootstrap: {exc}", file=sys.stderr)
    return 2 if failures else 0
