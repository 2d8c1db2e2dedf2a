"""The persisted DHT node, built in one place for the bootstrap service and the agent peer.

Theory of operation
-------------------
``open_dht_node(identity, options)`` is an async context manager that yields a running :class:`DhtNode`:

1. the SQLite backend (``p2p.storage``: writes in a worker thread, per-sender quota) and the record store
   on top of it;
2. the libp2p host (``p2p.host``: Noise only, connection manager limits, ``--announce``);
3. the sans-IO ``dht.Node`` and its ``DhtDriver``, with the storage guard as the driver's serve hook (quota
   before a PUT, durable before any reply, service time into the metrics);
4. the restore: stored records (re-verified) and the saved routing table;
5. background tasks: the driver, the health monitor (``p2p.health``), the storage flush (deletes),
   joining the network (through ``seeds``, retried while the routing table is empty, and again whenever
   it runs empty), and housekeeping every ``PERSIST_INTERVAL``: save the routing table, protect its
   contacts' connections from trimming (tag ``kad``), refresh the gauges.

On exit (normal, error or cancellation) the tasks stop, the routing table and queued deletes are saved
(bounded, shielded), the host shuts down and the database is closed.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from dht.config import DhtConfig
from dht.node import Node
from dht.store import RecordStore
from p2p.connmgr import ConnLimits
from p2p.dht_driver import DhtDriver
from p2p.errors import P2PError
from p2p.health import DEFAULT_LAG_THRESHOLD, Health
from p2p.host import P2PHost, open_host
from p2p.ratelimit import RateLimiter
from p2p.storage import SenderQuota, SqliteBackend, StorageError, StorageGuard, default_sender_quota
from wire.identity import Identity, pubkey_to_text

log = logging.getLogger(__name__)

#: How often the routing table is saved and the gauges refreshed.
PERSIST_INTERVAL = 10.0
#: How often the routing table's contacts are (re)protected from connection trimming.
PROTECT_INTERVAL = 5.0
#: Retry joining this often while the routing table is empty (the seeds may be down).
JOIN_RETRY = 5.0
#: Saving state on the way out (routing table, queued deletes).
FINAL_SAVE_TIMEOUT = 5.0
#: The connection manager's protection tag of the routing table's contacts.
KAD_TAG = "kad"


@dataclass
class DhtNodeOptions:
    """How to build a node.

    Attributes:
        db_path: the SQLite file (records and routing table).
        listen: listen multiaddrs.
        announce: addresses to advertise instead (``--announce``).
        seeds: full multiaddrs of peers to join through (``--bootstrap``).
        config: the DHT configuration.
        limits: the connection manager's limits (None: defaults).
        rate, burst: per-peer request rate limit (requests/s, bucket size); ``rate=None``: no limit.
        sender_quota: records one sending peer may hold here (None: ``default_sender_quota``).
        metrics: Prometheus metrics (``bootstrap.metrics.Metrics``) or None.
        lag_threshold: event-loop lag that makes the node unhealthy.
    """

    db_path: Path
    listen: Sequence[str]
    announce: Sequence[str] = ()
    seeds: Sequence[str] = ()
    config: DhtConfig = field(default_factory=DhtConfig)
    limits: ConnLimits | None = None
    rate: float | None = 50.0
    burst: float | None = None
    sender_quota: int | None = None
    metrics: Any | None = None
    lag_threshold: float = DEFAULT_LAG_THRESHOLD


@dataclass
class DhtNode:
    """A running persisted DHT node (yielded by :func:`open_dht_node`)."""

    host: P2PHost
    node: Node
    driver: DhtDriver
    store: RecordStore
    backend: SqliteBackend
    quota: SenderQuota
    health: Health
    restored: int = 0

    def not_ready(self) -> str | None:
        """Why the node is not ready to serve lookups yet (None once the routing table holds a contact)."""
        return None if len(self.node.table) else "the routing table is empty"

    def statistics(self) -> dict[str, Any]:
        return {
            "driver": self.driver.statistics(),
            "host": vars(self.host.statistics()),
            "connections": vars(self.host.connection_statistics()),
            "storage": vars(self.backend.statistics()),
            "quota": self.quota.statistics(),
        }


@asynccontextmanager
async def open_dht_node(identity: Identity, options: DhtNodeOptions) -> AsyncIterator[DhtNode]:
    """Build, restore and run a persisted DHT node for the body of the block (see the module docstring).

    Raises:
        P2PError: an address could not be bound, or a malformed listen/announce/seed address.
    """
    config, metrics = options.config, options.metrics
    health = Health(options.lag_threshold, observer=metrics)
    quota = SenderQuota(options.sender_quota or default_sender_quota(config.max_records))
    backend = SqliteBackend(options.db_path, quota=quota, observer=health)
    try:
        store = RecordStore(backend, config)
        async with open_host(
            identity, options.listen, announce=options.announce, limits=options.limits, conn_events=metrics
        ) as host:
            node = Node(identity.pubkey, host.listen_addrs(), config, random.Random(), store=store)
            limiter = None
            if options.rate is not None:
                limiter = RateLimiter(rate=options.rate, burst=options.burst or 2 * options.rate)
            guard = StorageGuard(backend, quota, observe_rpc=getattr(metrics, "observe_rpc", None))
            driver = DhtDriver(host, node, limiter=limiter, metrics=metrics, serve_hook=guard)
            restored = store.restore(driver.now())
            with contextlib.suppress(StorageError):  # reported to health; retried by the flush task
                await backend.commit()
            for contact in backend.load_contacts():
                node.add_contact(contact, driver.now())
            running = DhtNode(host, node, driver, store, backend, quota, health, restored)
            try:
                async with trio.open_nursery() as nursery:
                    await nursery.start(driver.run)
                    await nursery.start(health.run, host)
                    nursery.start_soon(backend.flush_forever)
                    nursery.start_soon(_keep_joined, driver, list(options.seeds))
                    nursery.start_soon(_housekeeping, running)
                    yield running
                    nursery.cancel_scope.cancel()
            finally:
                await _final_save(running)
    finally:
        backend.close()


async def _keep_joined(driver: DhtDriver, seeds: list[str]) -> None:
    """Join through ``seeds`` (or, with none, refresh our neighbourhood from the restored routing table);
    retry while we know nobody (the seeds may be down), and join again whenever the routing table runs
    empty later (every contact failed, e.g. after a network outage)."""
    if not seeds and not len(driver.node.table):
        return  # the first node of a network: others will join through us
    joined = False
    while True:
        if not joined or not len(driver.node.table):
            try:
                if seeds:
                    await driver.bootstrap(seeds)
                else:
                    await driver.find_node(driver.node.node_id)
            except P2PError as exc:
                log.info("joining failed: %s", exc)
            joined = len(driver.node.table) > 0
        await trio.sleep(JOIN_RETRY)


async def _housekeeping(running: DhtNode) -> None:
    node, host, metrics = running.node, running.host, running.driver.metrics
    saved_at = trio.current_time()
    while True:
        host.protect_only(KAD_TAG, [pubkey_to_text(c.pubkey) for c in node.table.contacts()])
        if metrics is not None:
            metrics.peers.set(len(node.table))
            metrics.records.set(len(node.store))
            metrics.record_bytes.set(node.store.total_bytes)
        if trio.current_time() - saved_at >= PERSIST_INTERVAL:
            saved_at = trio.current_time()
            with contextlib.suppress(StorageError):  # reported to health
                await running.backend.save_contacts(node.table.contacts(), running.driver.now())
        await trio.sleep(PROTECT_INTERVAL)


async def _final_save(running: DhtNode) -> None:
    """Save the routing table and queued changes on the way out (bounded, shielded)."""
    with trio.CancelScope(shield=True), trio.move_on_after(FINAL_SAVE_TIMEOUT):
        try:
            await running.backend.save_contacts(running.node.table.contacts(), running.driver.now())
            await running.backend.commit()
        except StorageError as exc:
            log.warning("saving state on shutdown failed: %s", exc)


__all__ = ["KAD_TAG", "DhtNode", "DhtNodeOptions", "open_dht_node"]
