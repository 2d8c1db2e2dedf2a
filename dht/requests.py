"""Bookkeeping of the requests a node core emits: their kinds, the in-flight record, message factories,
PUT batching and the node's counters.

Internal to ``dht.node``, ``dht.ops`` and ``dht.jobs``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dht.store import PAGE_BYTES
from wire.intent import Action
from wire.limits import MAX_RECORDS_PER_PUT
from wire.messages import Contact, FindNode, GetRecords, PutRecords, PutStatus

# request kinds: a probe of a full bucket's oldest contact, a lookup's FIND_NODE, a get's first GET_RECORDS
# (part of its lookup), a further page of one peer's records, an operation's PUT_RECORDS, and a hand-off
# PUT_RECORDS (a periodic job's, no operation waits for it)
PROBE, FIND, GET, PAGE, PUT, HANDOFF = range(6)
REQUEST_KIND_NAMES = ("probe", "find", "get", "page", "put", "handoff")
#: PutStatus values meaning "this node now holds the record (or a newer version)".
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
        self.size = size  # records sent (PUT, HANDOFF)


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
    "soft_failures",  # rate_limited / busy replies: the peer stays, we back off from it
    "backoff_skips",  # requests not sent to a peer we were backing off from
    "get_pages",  # page requests of gets
    "published_at_quorum",  # publishes reported before all their PUTs ended
    "job_ops_queued",  # replication / republish operations that waited for a free job slot
    "handoff_dropped",  # hand-off pushes dropped because the hand-off queue was full
)
(
    S_REQ_IN,
    S_REQ_OUT,
    S_RESP,
    S_FAIL,
    S_BAD,
    S_ERRORS,
    S_IGNORED,
    S_OPS,
    S_OPS_DONE,
    S_HANDOFF,
    S_SOFT,
    S_BACKOFF_SKIPS,
    S_PAGES,
    S_EARLY,
    S_JOBS_QUEUED,
    S_HANDOFF_DROPPED,
) = range(len(STAT_NAMES))

MsgFactory = Callable[[int], object]  # request id -> the request message


def find_factory(target: bytes) -> Callable[[int], FindNode]:
    """FIND_NODE(target) for a request id."""
    return lambda rid: FindNode(rid, target)


def get_factory(
    key: bytes, action: Action | None, since: int, cursor: bytes | None
) -> Callable[[int], GetRecords]:
    """GET_RECORDS(key, action, since, cursor) for a request id."""
    return lambda rid: GetRecords(rid, key, action, since, cursor)


def put_factory(key: bytes, records: list[bytes]) -> Callable[[int], PutRecords]:
    """PUT_RECORDS(key, records) for a request id."""
    return lambda rid: PutRecords(rid, key, records)


def put_batches(records: list[bytes]) -> list[list[bytes]]:
    """Split records into PUT_RECORDS batches of at most MAX_RECORDS_PER_PUT records and PAGE_BYTES bytes.

    Args:
        records: signed records, each at most MAX_INTENT_BYTES.
    Returns:
        The batches, in order; no batch is empty.
    """
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
