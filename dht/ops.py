"""Bookkeeping of the node core: request and operation records, request factories, PUT batching.

Internal to ``dht.node``; kept apart so that the node module stays readable.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dht.lookup import ClosestPeersIter
from dht.store import PAGE_BYTES
from wire.intent import Action
from wire.limits import MAX_RECORDS_PER_PUT
from wire.messages import Contact, FindNode, GetRecords, PutRecords, PutStatus

# request kinds
PROBE, FIND, GET, PAGE, PUT = range(5)
# operation kinds
K_FIND, K_BOOT, K_REFRESH, K_GET, K_PUBLISH, K_REPLICATE = range(6)
HOLDING = (PutStatus.STORED, PutStatus.REPLACED, PutStatus.STALE)
NEVER = math.inf


class Req:
    """A request in flight: to whom, what kind, for which operation (0: none), when it fails."""

    __slots__ = ("deadline", "kind", "op", "peer", "size")

    def __init__(self, peer: Contact, kind: int, op: int, deadline: float, size: int = 0) -> None:
        self.peer = peer
        self.kind = kind
        self.op = op  # 0: no operation waits for it
        self.deadline = deadline
        self.size = size  # records sent (PUT)


class Op:
    """One running operation (lookup, get, publish, refresh, replication) and what it has gathered."""

    __slots__ = (
        "action",
        "found",
        "id",
        "it",
        "kind",
        "messages",
        "pager",
        "pages",
        "puts_pending",
        "records",
        "replicas",
        "report",
        "responders",
        "side",
        "since",
        "statuses",
        "target",
    )

    def __init__(self, op_id: int, kind: int, target: bytes, report: bool) -> None:
        self.id = op_id
        self.kind = kind
        self.target = target
        self.report = report
        self.it: ClosestPeersIter | None = None
        self.messages = 0
        self.records: list[bytes] = []  # PUBLISH/REPLICATE: what to put
        self.found: dict[bytes, tuple[int, bytes]] | None = None  # GET: author+id -> (seq, record)
        self.responders = 0
        self.action: Action | None = None
        self.since = 0
        self.pager: bytes | None = None  # GET: the peer whose cursor we follow (b"": stopped)
        self.pages = 0  # GET: page requests sent
        self.puts_pending = 0
        self.side = 0  # PUT and PAGE requests of this operation in flight
        self.replicas = 0
        self.statuses: dict[str, int] | None = None


STAT_NAMES = (
    "requests_handled",
    "requests_sent",
    "responses",
    "failures",
    "bad_replies",
    "error_replies",
    "ignored_replies",
    "ops_started",
    "ops_done",
    "handoff_puts",
)
(S_REQ_IN, S_REQ_OUT, S_RESP, S_FAIL, S_BAD, S_ERRORS, S_IGNORED, S_OPS, S_OPS_DONE, S_HANDOFF) = range(
    len(STAT_NAMES)
)


def find_factory(target: bytes) -> Callable[[int], FindNode]:
    return lambda rid: FindNode(rid, target)


def get_factory(
    key: bytes, action: Action | None, since: int, cursor: bytes | None
) -> Callable[[int], GetRecords]:
    return lambda rid: GetRecords(rid, key, action, since, cursor)


def put_factory(key: bytes, records: list[bytes]) -> Callable[[int], PutRecords]:
    return lambda rid: PutRecords(rid, key, records)


def put_batches(records: list[bytes]) -> list[list[bytes]]:
    """Split records into PUT_RECORDS batches of at most 64 records and PAGE_BYTES bytes."""
    out: list[list[bytes]] = []
    cur: list[bytes] = []
    size = 0
    for r in records:
        if cur and (len(cur) >= MAX_RECORDS_PER_PUT or size + len(r) > PAGE_BYTES):
            out.append(cur)
            cur, size = [], 0
        cur.append(r)
        size += len(r)
    if cur:
        out.append(cur)
    return out
