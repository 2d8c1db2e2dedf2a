"""A raw DHT client for the network tests: its own ``P2PHost`` sending single frames on
``/metaspace/kad/1.0.0`` straight to one node (no lookup, no routing table), plus signed test records.

Requests carry no listen addresses, so the node never adds this client to its routing table.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from p2p.dht_driver import KAD_PROTOCOL
from p2p.framing import rpc
from p2p.host import P2PHost
from wire.envelope import open_intent, seal_intent
from wire.geo import cell_at
from wire.identity import Identity
from wire.intent import Action, Intent, Price
from wire.limits import MAX_RECORDS_PER_PAGE
from wire.messages import (
    GetRecords,
    PutRecords,
    PutResult,
    PutStatus,
    Records,
    decode_message,
    encode_message,
)

RPC_TIMEOUT = 10.0
#: Pages followed per GET (a key never holds more than a few hundred records in these tests).
MAX_PAGES = 32


def rid() -> int:
    return int.from_bytes(os.urandom(8), "big")


async def request(host: P2PHost, peer_id: str, transport: str, msg: Any, timeout: float = RPC_TIMEOUT) -> Any:
    """Send one DHT request to ``peer_id`` (dialing ``transport`` if needed); the decoded reply."""
    raw = await rpc(host, peer_id, KAD_PROTOCOL, encode_message(msg), timeout=timeout, addrs=[transport])
    return decode_message(raw)


async def get_all(
    host: P2PHost, peer_id: str, transport: str, key: bytes, action: Action | None = None
) -> list[bytes]:
    """Every record the node itself stores under ``key`` (following its page cursor).

    Raises:
        AssertionError: the node answered something else than RECORDS.
    """
    out: list[bytes] = []
    cursor: bytes | None = None
    for _ in range(MAX_PAGES):
        reply = await request(
            host, peer_id, transport, GetRecords(rid(), key, action, 0, cursor, MAX_RECORDS_PER_PAGE)
        )
        assert isinstance(reply, Records), f"GET_RECORDS answered {reply!r}"
        out.extend(reply.records)
        cursor = reply.cursor
        if cursor is None:
            return out
    raise AssertionError(f"more than {MAX_PAGES} pages under one key")


async def put(
    host: P2PHost, peer_id: str, transport: str, key: bytes, records: list[bytes]
) -> list[PutStatus]:
    """PUT_RECORDS straight to one node; its per-record statuses."""
    reply = await request(host, peer_id, transport, PutRecords(rid(), key, records))
    assert isinstance(reply, PutResult), f"PUT_RECORDS answered {reply!r}"
    return [PutStatus(s) for s in reply.statuses]


def record_ids(records: list[bytes]) -> set[tuple[bytes, bytes, int]]:
    """(author, intent id, seq) of each (verified) record."""
    out = set()
    for record in records:
        _env, intent = open_intent(record)
        out.add((intent.author, intent.id, intent.seq))
    return out


def make_intent(
    identity: Identity,
    now: float,
    *,
    lat: float = 40.0,
    lon: float = -74.0,
    category: str = "vehicles/tires",
    seq: int = 1,
    intent_id: bytes | None = None,
    text: str = "four used tires",
) -> Intent:
    """A live SELL intent of ``identity`` (expires in one day)."""
    created = int(now)
    return Intent(
        id=intent_id if intent_id is not None else hashlib.sha256(os.urandom(16)).digest()[:16],
        author=identity.pubkey,
        seq=seq,
        action=Action.SELL,
        category=category,
        attributes={"size": "225/65R17"},
        price=Price(8000, "USD"),
        quantity=4,
        cell=cell_at(lat, lon, 7),
        radius_km=50,
        created=created,
        expires=created + 86400,
        text=text,
        lang="en",
    )


def sealed(identity: Identity, intent: Intent) -> bytes:
    return seal_intent(identity, intent)
