"""Outputs of the DHT core (drained by ``Node.poll()``) and the typed results of its operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wire.messages import Contact


@dataclass(frozen=True, slots=True)
class SendRequest:
    """Deliver ``msg`` to ``peer``; later call ``Node.handle_response`` or
    ``Node.handle_failure(peer.pubkey, msg.rid)``."""

    peer: Contact
    msg: Any  # Ping | FindNode | PutRecords | GetRecords


@dataclass(frozen=True, slots=True)
class Found:
    """Records found under ``key``: verified, deduplicated, newest seq per (author, intent id).

    ``hops`` is the deepest lookup round of a peer that answered (seeds are 1), ``messages`` the requests
    sent, ``responders`` the peers that returned at least one record. ``complete`` is False when the get
    could not meet its completeness rule (``dht.ops``): the lookup timed out, or a page budget or a failed
    page request cut one of the closest replicas short.
    """

    key: bytes
    records: list[bytes]
    hops: int
    messages: int
    responders: int
    complete: bool = True


@dataclass(frozen=True, slots=True)
class NotFound:
    """No record under ``key``; ``closest`` are the closest peers that answered (the get's completeness set:
    ``min(get_closest, k)`` of them when that many exist)."""

    key: bytes
    closest: list[Contact]
    hops: int
    messages: int


@dataclass(frozen=True, slots=True)
class Timeout:
    """No peer answered the operation on ``key`` (all failed or were backed off from, or ``lookup_timeout``
    passed first)."""

    key: bytes
    hops: int
    messages: int


@dataclass(frozen=True, slots=True)
class Published:
    """A publish reached its quorum, or all its PUTs ended. ``replicas`` counts nodes holding the record
    (STORED, REPLACED or STALE — a node answering STALE already holds this version or a newer one), the local
    store included when this node is among the k closest. ``statuses`` counts each PutStatus name over the
    replies so far (``FAILED``: no reply, ``ERROR``: an error reply, ``BUSY``: the peer asked us to back
    off, or we are backing off from it). ``pending`` PUTs were still in flight when this was reported: they
    continue in the background (``DhtConfig.publish_quorum``)."""

    key: bytes
    replicas: int
    statuses: dict[str, int] = field(default_factory=dict)
    hops: int = 0
    messages: int = 0
    pending: int = 0


@dataclass(frozen=True, slots=True)
class Closest:
    """The k closest peers to ``target`` that answered, closest first."""

    target: bytes
    peers: list[Contact]
    hops: int
    messages: int


Result = Found | NotFound | Timeout | Published | Closest


@dataclass(frozen=True, slots=True)
class OpDone:
    """Operation ``op_id`` (returned by ``bootstrap``/``find_node``/``publish``/``get_records``) finished."""

    op_id: int
    result: Result


Output = SendRequest | OpDone
